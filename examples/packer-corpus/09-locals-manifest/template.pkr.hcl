locals {
  timestamp = regex_replace(timestamp(), "[- TZ:]", "")
  tags = {
    Team    = "platform"
    Release = local.timestamp
  }
}

source "amazon-ebs" "app" {
  ami_name      = "corpus-app-${local.timestamp}"
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
  tags         = local.tags
}

build {
  sources = ["source.amazon-ebs.app"]

  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = true
    custom_data = {
      team = local.tags.Team
    }
  }
}
