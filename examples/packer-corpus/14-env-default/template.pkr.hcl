variable "region" {
  type    = string
  default = env("AWS_DEFAULT_REGION")
}

source "amazon-ebs" "env" {
  ami_name      = "corpus-env"
  instance_type = "t3.micro"
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
  sources = ["source.amazon-ebs.env"]
}
