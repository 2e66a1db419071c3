# The patch-Tuesday nightly: a Windows Server 2022 base image built from
# the newest AMI Amazon publishes, and an application image layered on it
# (source_build), each kept in three regions, published in SSM Parameter
# Store and retired after three newer ones. Run it every night:
#
#     imgbuild build examples/nightly
#
# A night with no new Amazon image and no change here makes no change in
# AWS at all (both builds are "up to date"); a changed app script rebuilds
# the app only; a new Amazon image rebuilds both. `imgbuild plan` says
# beforehand what a run would do.
#
# The app build is hybrid: the operating system and the prerequisites are
# baked into the image, the application is configured at boot by the
# boot payload (app.amazon-ebs.app.user-data beside this file, also in
# SSM as /images/windows-app/boot-payload), so a new application version
# needs no new image.

variable "regions" {
  type    = list(string)
  default = ["eu-west-1", "ap-southeast-2"]
}

variable "app_version" {
  type    = string
  default = "1.4.2"
}

# The password bootstrap.txt gives Administrator at first boot.
variable "winrm_password" {
  type      = string
  default   = "SuperS3cr3t!!!!"
  sensitive = true
}

locals {
  stamp = formatdate("YYYYMMDDhhmmss", timestamp())
}

data "amazon-ami" "windows" {
  region = "us-east-1"
  filters = {
    name                = "Windows_Server-2022-English-Full-Base-*"
    root-device-type    = "ebs"
    virtualization-type = "hvm"
  }
  owners      = ["amazon"]
  most_recent = true
}

source "amazon-ebs" "base" {
  region         = "us-east-1"
  instance_type  = "m5.large"
  source_ami     = data.amazon-ami.windows.id
  ami_name       = "windows-2022-base-${local.stamp}"
  ami_regions    = var.regions
  communicator   = "winrm"
  user_data_file = "${path.root}/bootstrap.txt"
  winrm_username = "Administrator"
  winrm_password = var.winrm_password
  tags = {
    Layer  = "base"
    Source = "{{ .SourceAMIName }}"
  }
}

source "amazon-ebs" "app" {
  region         = "us-east-1"
  instance_type  = "m5.large"
  source_build   = "base"
  ami_name       = "windows-2022-app-${local.stamp}"
  ami_regions    = var.regions
  communicator   = "winrm"
  user_data_file = "${path.root}/bootstrap.txt"
  winrm_username = "Administrator"
  winrm_password = var.winrm_password
  tags = {
    Layer = "app"
  }
}

build {
  name    = "base"
  sources = ["source.amazon-ebs.base"]

  provisioner "powershell" {
    script = "${path.root}/scripts/harden.ps1"
  }
  provisioner "windows-restart" {}

  post-processor "amazon-ssm-parameter" {
    name = "/images/windows-base/latest"
  }
  post-processor "retention" {
    keep            = 3
    deprecate_after = "168h"
    delete          = true
  }
  post-processor "manifest" {
    output = "${path.root}/manifest.json"
  }
}

build {
  name     = "app"
  strategy = "hybrid"
  sources  = ["source.amazon-ebs.app"]

  provisioner "powershell" {
    layer  = "prereqs"
    inline = ["Install-WindowsFeature -Name Web-Server -IncludeManagementTools"]
  }
  provisioner "powershell" {
    layer            = "app"
    environment_vars = ["APP_VERSION=${var.app_version}"]
    script           = "${path.root}/scripts/configure-app.ps1"
  }

  post-processor "amazon-ssm-parameter" {
    name              = "/images/windows-app/latest"
    boot_payload_name = "/images/windows-app/boot-payload"
  }
  post-processor "retention" {
    keep            = 3
    deprecate_after = "168h"
    delete          = true
  }
  post-processor "manifest" {
    output = "${path.root}/manifest.json"
  }
}
