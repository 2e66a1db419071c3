source "amazon-ebs" "spot" {
  ami_name            = "corpus-spot"
  region              = "us-east-1"
  source_ami          = "ami-0123456789abcdef0"
  spot_instance_types = ["t3.micro", "t3a.micro"]
  spot_price          = "auto"
  spot_tags = {
    Name = "corpus-spot"
  }
  fleet_tags = {
    Purpose = "corpus"
  }
  ssh_username = "ec2-user"
}

build {
  sources = ["sources.amazon-ebs.spot"]
}
