# No region anywhere: as with Packer, it comes from AWS_REGION,
# AWS_DEFAULT_REGION or the profile's region in ~/.aws/config.
data "amazon-ami" "al2023" {
  filters = {
    name                = "al2023-ami-2023.*-x86_64"
    root-device-type    = "ebs"
    virtualization-type = "hvm"
  }
  most_recent = true
  owners      = ["amazon"]
}

source "amazon-ebs" "noregion" {
  ami_name      = "corpus-noregion-${formatdate("YYYYMMDDhhmmss", timestamp())}"
  instance_type = "t3.micro"
  source_ami    = data.amazon-ami.al2023.id
  ssh_username  = "ec2-user"
}

build {
  sources = ["source.amazon-ebs.noregion"]
}
