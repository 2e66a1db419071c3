source "amazon-ebs" "base" {
  instance_type = "t3.micro"
  region        = "us-east-1"
  source_ami_filter {
    filters = {
      name = "amzn2-ami-hvm-*-x86_64-gp2"
    }
    most_recent = true
    owners      = ["amazon"]
  }
  ssh_username = "ec2-user"
  ami_name     = "corpus-multi-base"
}

build {
  name = "multi"
  source "source.amazon-ebs.base" {
    name     = "web"
    ami_name = "corpus-multi-web"
  }
  source "source.amazon-ebs.base" {
    name     = "worker"
    ami_name = "corpus-multi-worker"
  }

  provisioner "shell" {
    only   = ["amazon-ebs.web"]
    inline = ["echo web"]
  }
  provisioner "shell" {
    except = ["amazon-ebs.web"]
    inline = ["echo ${source.name}"]
  }
}
