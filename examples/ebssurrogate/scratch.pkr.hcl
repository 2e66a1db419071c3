# An amazon-ebssurrogate build: the surrogate instance gets an extra
# volume, /dev/xvdf; the provisioners build the image's root file system
# onto it; the image is registered from the volume's snapshot, with
# /dev/xvda as its root device, and copied to eu-west-1.
#
# On EC2 the volume must become a whole bootable system: format and mount
# it (on Nitro instances it shows as /dev/nvme1n1), install an operating
# system onto it (debootstrap, dnf --installroot, ...) and a boot loader,
# then unmount it. On imgbuild's local cloud the volume is already a
# directory mounted at /mnt/xvdf, and images boot over the guests' base
# system, so the volume only needs to hold what the image adds.

source "amazon-ebssurrogate" "scratch" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  source_ami_filter {
    filters     = { name = "amzn2-ami-hvm-*-x86_64-gp2" }
    owners      = ["amazon"]
    most_recent = true
  }

  ami_name                = "scratch-{{timestamp}}"
  ami_description         = "A root file system built on a surrogate's volume"
  ami_regions             = ["eu-west-1"]
  ami_virtualization_type = "hvm"
  ami_architecture        = "x86_64"
  ena_support             = true

  launch_block_device_mappings {
    device_name           = "/dev/xvdf"
    volume_size           = 8
    volume_type           = "gp3"
    delete_on_termination = true
  }
  ami_root_device {
    source_device_name    = "/dev/xvdf"
    device_name           = "/dev/xvda"
    volume_type           = "gp3"
    delete_on_termination = true
  }

  tags          = { Name = "scratch", Surrogate = "{{ .SourceAMIName }}" }
  snapshot_tags = { Name = "scratch root" }
}

build {
  sources = ["source.amazon-ebssurrogate.scratch"]

  provisioner "shell" {
    inline = [
      "if [ -b /dev/xvdf ] && ! mountpoint -q /mnt/xvdf; then sudo mkfs.ext4 -q /dev/xvdf && sudo mkdir -p /mnt/xvdf && sudo mount /dev/xvdf /mnt/xvdf; fi",
      "sudo mkdir -p /mnt/xvdf/etc",
      "echo 'built on a surrogate volume by imgbuild' | sudo tee /mnt/xvdf/etc/scratch-release",
      "if [ -b /dev/xvdf ]; then sudo umount /mnt/xvdf; fi",
    ]
  }

  post-processor "manifest" {
    output = "${path.root}/manifest.json"
  }
}
