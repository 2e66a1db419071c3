# A spot build as Packer's documentation shows it: no instance_type, the
# instance types the spot fleet may choose from, at most the on-demand
# price ("auto"), with tags on the spot request and on the fleet.
source "amazon-ebs" "spot" {
  ami_name = "corpus-spot-${formatdate("YYYYMMDDhhmmss", timestamp())}"
  region   = "us-east-1"
  source_ami_filter {
    filters = {
      name                = "al2023-ami-2023.*-x86_64"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    most_recent = true
    owners      = ["amazon"]
  }
  spot_instance_types      = ["t3.micro", "t3a.micro"]
  spot_price               = "auto"
  spot_allocation_strategy = "price-capacity-optimized"
  spot_tags = {
    Name = "corpus-spot"
  }
  fleet_tags = {
    Purpose = "corpus"
  }
  run_tags = {
    Role = "spot-builder"
  }
  ssh_username = "ec2-user"
}

build {
  sources = ["sources.amazon-ebs.spot"]

  provisioner "shell" {
    inline = ["echo 'built on a spot instance' | sudo tee /etc/spot-build"]
  }
}
