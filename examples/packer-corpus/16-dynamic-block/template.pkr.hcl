variable "volumes" {
  type = list(object({ device = string, size = number }))
  default = [
    { device = "/dev/sdb", size = 20 },
    { device = "/dev/sdc", size = 40 },
  ]
}

source "amazon-ebs" "disks" {
  ami_name      = "corpus-dynamic"
  instance_type = "t3.micro"
  region        = "us-east-1"
  source_ami_filter {
    filters = {
      name                = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    most_recent = true
    owners      = ["099720109477"]
  }
  ssh_username = "ubuntu"

  dynamic "launch_block_device_mappings" {
    for_each = var.volumes
    content {
      device_name           = launch_block_device_mappings.value.device
      volume_size           = launch_block_device_mappings.value.size
      volume_type           = "gp3"
      delete_on_termination = true
    }
  }
}

build {
  sources = ["source.amazon-ebs.disks"]
}
