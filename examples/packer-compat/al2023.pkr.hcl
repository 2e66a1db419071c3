# A Packer amazon-ebs template of the usual kind: sudo, scripts run through
# sudo -E, a reboot the provisioner expects, copies to two regions. imgbuild
# validates it unchanged (TestExamplesValidate) and builds it unchanged on
# the local cloud (TestPackerCompatExampleBuilds).

packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.8.0"
    }
  }
}

variable "region" {
  type        = string
  default     = "us-east-1"
  description = "Region the build instance runs in."
}

variable "copy_regions" {
  type    = list(string)
  default = ["eu-west-1", "ap-southeast-2"]
}

variable "instance_type" {
  type    = string
  default = "t3.micro"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*[0-9][a-z]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "The instance_type must look like an EC2 instance type, for example t3.micro."
  }
}

variable "environment" {
  type    = string
  default = "staging"

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "The environment must be staging or production."
  }
}

variable "team_tags" {
  type = map(string)
  default = {
    Team       = "platform"
    CostCenter = "1234"
  }
}

locals {
  timestamp = regex_replace(timestamp(), "[- TZ:]", "")
  common_tags = merge(var.team_tags, {
    Environment = var.environment
    ManagedBy   = "imgbuild"
  })
}

source "amazon-ebs" "al2023" {
  region        = var.region
  instance_type = var.instance_type
  ami_name      = "al2023-base-${var.environment}-${local.timestamp}"
  ami_regions   = var.copy_regions
  ssh_username  = "ec2-user"

  source_ami_filter {
    filters = {
      name                = "al2023-ami-2023.*-x86_64"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 16
    volume_type           = "gp3"
    delete_on_termination = true
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  aws_polling {
    delay_seconds = 5
    max_attempts  = 120
  }

  tags = merge(local.common_tags, {
    Name          = "al2023-base"
    SourceAMIName = "{{ .SourceAMIName }}"
    BuildRegion   = "{{ .BuildRegion }}"
  })
  snapshot_tags = local.common_tags
  run_tags      = local.common_tags
}

build {
  name    = "base"
  sources = ["source.amazon-ebs.al2023"]

  provisioner "file" {
    source      = "${path.root}/files/motd"
    destination = "/tmp/motd"
  }

  provisioner "shell" {
    environment_vars = [
      "ENVIRONMENT=${var.environment}",
      "DEBIAN_FRONTEND=noninteractive",
    ]
    execute_command = "chmod +x {{ .Path }}; sudo -E sh -c '{{ .Vars }} {{ .Path }}'"
    scripts         = ["${path.root}/scripts/update.sh", "${path.root}/scripts/harden.sh"]
  }

  provisioner "shell" {
    inline            = ["sudo reboot"]
    expect_disconnect = true
  }

  provisioner "shell" {
    pause_before = "10s"
    max_retries  = 2
    timeout      = "5m"
    inline       = ["sudo install -m 0644 /tmp/motd /etc/motd", "uname -r"]
  }

  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = true
    custom_data = {
      environment = var.environment
      source_ami  = "{{ .SourceAMI }}"
    }
  }
}
