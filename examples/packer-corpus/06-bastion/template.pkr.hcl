source "amazon-ebs" "private" {
  ami_name                    = "corpus-bastion"
  instance_type               = "t3.micro"
  region                      = "us-east-1"
  source_ami                  = "ami-0123456789abcdef0"
  subnet_id                   = "subnet-0123456789abcdef0"
  associate_public_ip_address = false
  ssh_interface               = "private_ip"
  ssh_username                = "ec2-user"
  ssh_bastion_host            = "bastion.example.com"
  ssh_bastion_username        = "jump"
  ssh_bastion_agent_auth      = true
  temporary_security_group_source_cidrs = ["10.0.0.0/16"]
}

build {
  sources = ["source.amazon-ebs.private"]
  provisioner "shell" {
    inline = ["uptime"]
  }
}
