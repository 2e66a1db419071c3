source "amazon-ebs" "al2023" {
  ami_name      = "corpus-path-root"
  instance_type = "t3.micro"
  region        = "us-east-1"
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
    script = "${path.root}/scripts/install.sh"
  }
}
