source "amazon-instance" "bundle" {
  account_id       = "123456789012"
  ami_name         = "corpus-instance-store"
  instance_type    = "m3.medium"
  region           = "us-east-1"
  s3_bucket        = "corpus-bundles"
  source_ami       = "ami-0123456789abcdef0"
  ssh_username     = "ec2-user"
  x509_cert_path   = "certs/cert.pem"
  x509_key_path    = "certs/key.pem"
}

build {
  sources = ["source.amazon-instance.bundle"]
}
