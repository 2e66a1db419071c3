source "amazon-ebs" "al2023" {
  ami_name      = "corpus-path-root"
  instance_type = "t3.micro"
  region        = "us-east-1"
  source_ami    = "ami-0123456789abcdef0"
  ssh_username  = "ec2-user"
}

build {
  sources = ["source.amazon-ebs.al2023"]
  provisioner "shell" {
    script = "${path.root}/scripts/install.sh"
  }
}
