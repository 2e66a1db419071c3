instance_type = "t3.small"
ami_prefix    = "corpus-from-varfile"
