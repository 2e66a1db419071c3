source "amazon-ebs" "tagged" {
  ami_name      = "corpus-tagged"
  instance_type = "t3.micro"
  region        = "us-east-1"
  source_ami    = "ami-0123456789abcdef0"
  ssh_username  = "ec2-user"
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
