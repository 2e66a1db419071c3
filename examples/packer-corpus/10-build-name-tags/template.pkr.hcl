source "amazon-ebs" "tagged" {
  ami_name      = "corpus-tagged"
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
  name = "golden"
  source "source.amazon-ebs.tagged" {
    tags = {
      Name       = "golden"
      Base_AMI   = "{{ .SourceAMI }}"
      Build_Name = "${build.name}"
    }
  }
  provisioner "shell" {
    inline = ["echo building ${build.name} from ${source.type}.${source.name}"]
  }
}
