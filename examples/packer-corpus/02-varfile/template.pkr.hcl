variable "region" {
  type    = string
  default = "us-east-1"
}

variable "instance_type" {
  type = string
}

variable "ami_prefix" {
  type    = string
  default = "corpus-varfile"
}

source "amazon-ebs" "al2023" {
  ami_name      = "${var.ami_prefix}-${formatdate("YYYYMMDDhhmmss", timestamp())}"
  instance_type = var.instance_type
  region        = var.region
  source_ami_filter {
    filters = {
      name                = "al2023-ami-2023.*-x86_64"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    most_recent = true
    owners      = ["amazon"]
  }
  ssh_username = "ec2-user"
}

build {
  sources = ["source.amazon-ebs.al2023"]
  provisioner "shell" {
    script = "scripts/setup.sh"
  }
}
