# A monthly Windows Server 2022 image: WinRM over HTTPS with NTLM, the
# Administrator password read from EC2 (GetPasswordData, decrypted with the
# build's temporary RSA key pair), PowerShell as a plain and an elevated
# user, a restart, a file, and Sysprep with the image's EC2Launch v2 agent.
# The image is copied to a second region.

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "copy_regions" {
  type    = list(string)
  default = ["eu-west-1"]
}

source "amazon-ebs" "windows" {
  region        = var.region
  instance_type = "m5.large"
  ami_name      = "windows-2022-base-{{timestamp}}"
  ami_regions   = var.copy_regions
  source_ami_filter {
    filters = {
      name                = "Windows_Server-2022-English-Full-Base-*"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  user_data_file = "${path.root}/bootstrap-https.ps1"
  communicator   = "winrm"
  winrm_username = "Administrator"
  winrm_use_ssl  = true
  winrm_insecure = true # the bootstrap's certificate is self-signed
  winrm_use_ntlm = true
  winrm_timeout  = "20m"

  windows_password_timeout = "20m"

  tags = {
    OS     = "Windows Server 2022"
    Source = "{{ .SourceAMIName }}"
  }
}

build {
  sources = ["source.amazon-ebs.windows"]

  provisioner "powershell" {
    environment_vars = ["IMAGE_ROLE=base"]
    inline = [
      "Write-Output \"role: $Env:IMAGE_ROLE\"",
      "New-Item -ItemType Directory -Force -Path C:\\imgbuild | Out-Null",
    ]
  }

  # Installing features and updates needs an elevated token: run as
  # Administrator through a scheduled task.
  provisioner "powershell" {
    script            = "${path.root}/scripts/install-features.ps1"
    elevated_user     = "Administrator"
    elevated_password = build.Password
  }

  provisioner "windows-restart" {
    restart_timeout = "15m"
    check_registry  = true
  }

  provisioner "file" {
    source      = "${path.root}/files/motd.txt"
    destination = "C:\\imgbuild\\motd.txt"
  }

  provisioner "windows-shell" {
    inline = ["type C:\\imgbuild\\motd.txt"]
  }

  # Last: generalise the image and let Windows shut itself down. The
  # builder waits for the instance to stop; it never calls StopInstances.
  provisioner "sysprep" {
    admin_password = "random"
    clean_temp     = true
  }

  post-processor "manifest" {
    output = "${path.root}/manifest.json"
  }
}
