# A Windows template in the shape of the WinRM example of Packer's
# amazon-ebs documentation: the user data sets the Administrator password
# and opens WinRM over HTTP with Basic authentication, and the template
# logs in with that password. It builds unchanged with Packer and imgbuild.

variable "region" {
  type    = string
  default = "us-east-1"
}

locals {
  timestamp = regex_replace(timestamp(), "[- TZ:]", "")
}

source "amazon-ebs" "firstrun-windows" {
  ami_name      = "packer-windows-demo-${local.timestamp}"
  communicator  = "winrm"
  instance_type = "t2.micro"
  region        = var.region
  source_ami_filter {
    filters = {
      name                = "Windows_Server-2019-English-Full-Base-*"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    most_recent = true
    owners      = ["amazon"]
  }
  user_data_file = "${path.root}/bootstrap_win.txt"
  winrm_password = "SuperS3cr3t!!!!"
  winrm_username = "Administrator"
}

build {
  name    = "packer-windows-demo"
  sources = ["source.amazon-ebs.firstrun-windows"]

  provisioner "powershell" {
    environment_vars = ["DEVOPS_LIFE_IMPROVER=PACKER"]
    inline = [
      "Write-Host \"HELLO NEW USER; WELCOME TO $Env:DEVOPS_LIFE_IMPROVER\"",
      "Write-Host \"You need to use backtick escapes when using\"",
      "Write-Host \"characters such as DOLLAR`$ directly in a command\"",
      "Write-Host \"or else  you'll get the wrong value\"",
    ]
  }

  provisioner "windows-restart" {}

  provisioner "powershell" {
    environment_vars = ["VAR1=A$Dollar", "VAR2=A`Backtick", "VAR3=A'SingleQuote", "VAR4=A\"DoubleQuote"]
    script           = "${path.root}/sample_script.ps1"
  }
}
