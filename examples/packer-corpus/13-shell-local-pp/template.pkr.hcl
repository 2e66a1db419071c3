source "amazon-ebs" "pp" {
  ami_name      = "corpus-pp"
  instance_type = "t3.micro"
  region        = "us-east-1"
  source_ami    = "ami-0123456789abcdef0"
  ssh_username  = "ec2-user"
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
