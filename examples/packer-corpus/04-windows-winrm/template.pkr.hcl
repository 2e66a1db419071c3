variable "winrm_password" {
  type      = string
  default   = "SuperS3cr3t!!!!"
  sensitive = true
}

source "amazon-ebs" "windows" {
  ami_name       = "corpus-windows-{{timestamp}}"
  communicator   = "winrm"
  instance_type  = "t3.medium"
  region         = "us-east-1"
  source_ami     = "ami-0123456789abcdef0"
  user_data_file = "./bootstrap_win.txt"
  winrm_password = var.winrm_password
  winrm_username = "Administrator"
  winrm_insecure = true
  winrm_use_ssl  = true
  winrm_timeout  = "15m"
}

build {
  sources = ["source.amazon-ebs.windows"]

  provisioner "powershell" {
    environment_vars = ["DEVOPSLIFE=corpus"]
    inline           = ["Write-Host \"HELLO $Env:DEVOPSLIFE\""]
  }
  provisioner "windows-restart" {}
  provisioner "powershell" {
    inline = ["C:/ProgramData/Amazon/EC2-Windows/Launch/Scripts/InitializeInstance.ps1 -Schedule"]
  }
}
