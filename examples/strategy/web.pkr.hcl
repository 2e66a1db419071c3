# Image strategies: one recipe built twice, as AWS's AMI-building guidance
# describes them.
#
#   web.amazon-ebs.full    strategy "full": every layer is baked.
#   web.amazon-ebs.hybrid  strategy "hybrid" (the build's): the os and
#                          prereqs layers are baked; the app layer is
#                          compiled into the boot payload
#                          web.amazon-ebs.hybrid.user-data.
#
# An instance launched from the hybrid image with that file as its user
# data ends up as one launched from the full image: cloud-init runs the
# app layer, as root, at first boot. Rebuild the hybrid image only when the
# os or prereqs change; ship app changes as a new payload.

variable "app_version" {
  type    = string
  default = "1.2.3"
}

source "amazon-ebs" "web" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"

  source_ami_filter {
    filters     = { name = "amzn2-ami-hvm-*-x86_64-gp2" }
    owners      = ["amazon"]
    most_recent = true
  }
}

build {
  name     = "web"
  strategy = "hybrid"

  source "amazon-ebs.web" {
    name     = "full"
    strategy = "full"
    ami_name = "web-full-{{timestamp}}"
  }
  source "amazon-ebs.web" {
    name     = "hybrid"
    ami_name = "web-hybrid-{{timestamp}}"
  }

  provisioner "shell" {
    layer  = "os"
    inline = ["echo 'PermitRootLogin no' | sudo tee /etc/os-layer"]
  }

  provisioner "shell" {
    layer  = "prereqs"
    inline = ["sudo mkdir -p /opt/app /etc/app", "echo runtime | sudo tee /etc/prereqs"]
  }

  # The app layer: a configuration file and an install script. With
  # "hybrid" neither runs on the build's instance.
  provisioner "file" {
    layer       = "app"
    source      = "${path.root}/files/app.conf"
    destination = "/tmp/app.conf"
  }

  provisioner "shell" {
    layer            = "app"
    environment_vars = ["APP_VERSION=${var.app_version}"]
    script           = "${path.root}/scripts/install-app.sh"
  }

  # Lists both images and, for the hybrid build, its boot payload file.
  post-processor "manifest" {
    output = "manifest.json"
  }
}
