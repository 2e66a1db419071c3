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
  source_ami    = "ami-0123456789abcdef0"
  ssh_username  = "ec2-user"

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
