data "amazon-parameterstore" "al2023" {
  name   = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
  region = "us-east-1"
}

source "amazon-ebs" "ssm" {
  ami_name      = "corpus-ssm"
  instance_type = "t3.micro"
  region        = "us-east-1"
  source_ami    = data.amazon-parameterstore.al2023.value
  ssh_username  = "ec2-user"
}

build {
  sources = ["source.amazon-ebs.ssm"]
}
