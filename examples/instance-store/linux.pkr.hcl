# An instance-store Amazon Linux image, bundled by imgbuild itself: the
# root file system is read over SSH, bundled on this machine and uploaded
# to S3, then registered and copied to eu-west-1.
#
# On the local cloud (`imgbuild localcloud -- imgbuild build
# examples/instance-store/linux.pkr.hcl`) the cloud says where its EC2
# bundling certificate is (IMGBUILD_LOCALCLOUD_EC2_CERT). On AWS leave
# ec2_cert_path empty (imgbuild has EC2's certificates), set account_id to
# your account and make your own certificate and key:
#   openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=bundler \
#     -keyout bundler.key -out bundler.crt
# The test-only pair here is for the local cloud only.

variable "account_id" {
  type    = string
  default = "123456789012" # the local cloud's account
}

variable "s3_bucket" {
  type    = string
  default = "imgbuild-example-bundles/linux"
}

variable "x509_cert_path" {
  type    = string
  default = "test-only.crt"
}

variable "x509_key_path" {
  type    = string
  default = "test-only.key"
}

variable "ec2_cert_path" {
  type    = string
  default = env("IMGBUILD_LOCALCLOUD_EC2_CERT")
}

source "amazon-instance" "linux" {
  region        = "us-east-1"
  instance_type = "m3.medium" # a type with instance storage
  ssh_username  = "ec2-user"
  source_ami_filter {
    filters = {
      name             = "amzn-ami-hvm-*-x86_64-s3"
      root-device-type = "instance-store"
    }
    owners      = ["amazon"]
    most_recent = true
  }
  ami_name       = "store-linux-{{timestamp}}"
  ami_regions    = ["eu-west-1"]
  tags           = { Role = "store" }
  account_id     = var.account_id
  s3_bucket      = var.s3_bucket
  bundle_prefix  = "linux-{{timestamp}}"
  x509_cert_path = "${path.root}/${var.x509_cert_path}"
  x509_key_path  = "${path.root}/${var.x509_key_path}"
  ec2_cert_path  = var.ec2_cert_path
}

build {
  sources = ["source.amazon-instance.linux"]

  provisioner "shell" {
    inline = ["echo bundled-by-imgbuild | sudo tee /etc/imgbuild-marker"]
  }

  post-processor "manifest" {
    output = "manifest.json"
  }
}
