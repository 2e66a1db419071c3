variable "region" {
  type    = string
  default = env("AWS_DEFAULT_REGION")
}

source "amazon-ebs" "env" {
  ami_name      = "corpus-env"
  instance_type = "t3.micro"
  region        = var.region
  source_ami    = "ami-0123456789abcdef0"
  ssh_username  = "ec2-user"
}

build {
  sources = ["source.amazon-ebs.env"]
}
