source "amazon-ebs" "pp" {
  ami_name      = "corpus-pp"
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
}

build {
  sources = ["source.amazon-ebs.pp"]

  provisioner "file" {
    source      = "${path.root}/files/motd"
    destination = "/tmp/motd"
  }
  provisioner "shell-local" {
    inline = ["echo local before"]
  }
  post-processors {
    post-processor "manifest" {
      output = "out/manifest.json"
    }
    post-processor "shell-local" {
      inline = ["cat out/manifest.json"]
    }
  }
}
