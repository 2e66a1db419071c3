data "http" "keys" {
  url = "https://example.com/authorized_keys"
  request_headers = {
    Accept = "text/plain"
  }
}

source "amazon-ebs" "http" {
  ami_name      = "corpus-http"
  instance_type = "t3.micro"
  region        = "us-east-1"
  source_ami    = "ami-0123456789abcdef0"
  ssh_username  = "ec2-user"
}

build {
  sources = ["source.amazon-ebs.http"]
  provisioner "shell" {
    inline = ["echo '${data.http.keys.body}' >> ~/.ssh/authorized_keys"]
  }
}
