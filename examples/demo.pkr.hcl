# The demo `make demo` builds on the local cloud: a Linux image provisioned
# over real SSH (a file, a script using sudo and the package manager),
# copied to two more regions, tagged, shared and deprecated
# in a year, with a manifest of every image ID. It builds unchanged on AWS
# (pass -var share_with=<your other account ID> and a manifest path).

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "copy_regions" {
  type    = list(string)
  default = ["eu-west-1", "ap-southeast-2"]
}

variable "share_with" {
  type        = list(string)
  default     = ["123456789012"]
  description = "Accounts that may launch the image."
}

variable "manifest_path" {
  type    = string
  default = "demo-manifest.json"
}

locals {
  tags = {
    Project   = "imgbuild-demo"
    ManagedBy = "imgbuild"
  }
}

source "amazon-ebs" "demo" {
  region        = var.region
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "imgbuild-demo-{{timestamp}}"
  ami_regions   = var.copy_regions
  ami_users     = var.share_with
  deprecate_at  = timeadd(timestamp(), "8760h")

  source_ami_filter {
    filters = {
      name                = "amzn2-ami-hvm-*-x86_64-gp2"
      virtualization-type = "hvm"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  deregistration_protection {
    enabled = true
  }

  tags = merge(local.tags, {
    Name          = "imgbuild-demo"
    SourceAMIName = "{{ .SourceAMIName }}"
    Region        = "{{ .BuildRegion }}"
  })
  snapshot_tags = local.tags
  run_tags      = local.tags
}

build {
  name    = "demo"
  sources = ["source.amazon-ebs.demo"]

  provisioner "file" {
    source      = "${path.root}/demo/motd"
    destination = "motd"
  }

  provisioner "shell" {
    environment_vars = ["GREETING=hello from imgbuild"]
    script           = "${path.root}/demo/setup.sh"
  }

  provisioner "shell" {
    inline = ["cat provisioned.txt /etc/imgbuild-demo", "ls -l motd", "tree --version"]
  }

  post-processor "manifest" {
    output = var.manifest_path
    custom_data = {
      source_ami = "{{ .SourceAMI }}"
    }
  }
}
