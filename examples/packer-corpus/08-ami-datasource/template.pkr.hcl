data "amazon-ami" "al2023" {
  filters = {
    name                = "al2023-ami-*-x86_64"
    virtualization-type = "hvm"
  }
  most_recent = true
  owners      = ["amazon"]
  region      = "us-east-1"
}

source "amazon-ebs" "from-data" {
  ami_name      = "corpus-ami-data"
  instance_type = "t3.micro"
  region        = "us-east-1"
  source_ami    = data.amazon-ami.al2023.id
  ssh_username  = "ec2-user"
}

build {
  sources = ["source.amazon-ebs.from-data"]
}
