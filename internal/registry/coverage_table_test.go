package registry

import (
	"maps"
)

// Where the runtime reads configuration, from the repository root. A
// directory means its non-test Go files except config.go (the Config and
// its Prepare); a file is taken whole, which is how a field consumed by
// Prepare itself (merged into another, or a default) is classified.
const (
	ebsSteps      = "builders/amazon/steps"               // the shared amazon build steps
	instanceBuild = "builders/amazon/instance/builder.go" // the amazon-instance bundle settings
	planAmazon    = "builders/amazon/ebs/builder.go"      // the amazon-ebs step list
	awsSession    = "builders/amazon/access_session.go"
	mergeTags     = "builders/amazon/doc.go"            // MergeTags: tag {} blocks join the tags maps
	amiPrepare    = "builders/amazon/ami.go"            // AMIConfig.Prepare
	runPrepare    = "builders/amazon/run_prepare.go"    // RunConfig.Prepare
	srcPrepare    = "builders/amazon/source.go"         // SourceConfig.Prepare
	scriptVars    = "provisioners/script/vars.go"       // environment of scripts
	scriptMerge   = "provisioners/script/script.go"     // Source.Prepare: script joins scripts
	scriptLoad    = "provisioners/script/local.go"      // Source.Load: the Windows provisioners read the scripts
	shellConfig   = "provisioners/shell/config.go"      // defaults of the shell provisioner
	psConfig      = "provisioners/powershell/config.go" // defaults of the powershell provisioner
	fileConfig    = "provisioners/file/config.go"       // file provisioner Prepare
	localRun      = "provisioners/shelllocal"           // shell-local, provisioner and post-processor
	localPP       = "postprocessors/shelllocal"         // the post-processor's own environment
	amiFind       = "internal/datasource/amazonami"     // the amazon-ami query
	paramGet      = "internal/datasource/parameterstore"
	httpFetch     = "internal/datasource/http/fetch.go"
	ppRegional    = "postprocessors/internal/regional" // the AWS post-processors' access settings
)

// Where amazon-ebssurrogate reads what only it has: the builder hands the
// registered image's settings to the shared steps, and Prepare merges the
// run_volume_tag blocks.
const (
	surrogateBuild   = "builders/amazon/ebssurrogate/builder.go"
	surrogatePrepare = "builders/amazon/ebssurrogate/config.go"
)

// refusedComponents are component types that validate refuses whole: any
// block of that type is an error, so none of its fields can be ignored.
var refusedComponents = map[string]string{}

// refusedValues are values of implemented fields that validate refuses.
var refusedValues = []struct{ component, set, name string }{
	{"source/amazon-ebs", `ssh_interface = "session_manager"`, `ssh_interface = "session_manager"`},
}

// refusedInTemplate are the engine's own block arguments that validate
// refuses; internal/template's testdata checks them at their line.
var refusedInTemplate = []string{"keep_input_artifact = false"}

// fieldUses classifies every HCL field of every component that is not
// refused whole, by dotted path ("assume_role.role_arn").
var fieldUses = map[string]map[string]use{
	"source/amazon-ebs": merge(builderAccess, amiFields, runFields, blockDevices, communicatorFields, timeoutFields, map[string]use{
		"skip_create_ami": impl(planAmazon), "skip_ami_run_tags": impl(ebsSteps), "run_volume_tags": impl(ebsSteps),
		"no_ephemeral": impl(ebsSteps), "no_reboot": impl(ebsSteps),
	}),
	"source/amazon-instance": merge(builderAccess, amiFields, runFields, blockDevices, communicatorFields, timeoutFields, map[string]use{
		"account_id": impl(instanceBuild), "s3_bucket": impl(instanceBuild), "x509_cert_path": impl(instanceBuild),
		"x509_key_path": impl(instanceBuild), "ec2_cert_path": impl(instanceBuild), "bundle_prefix": impl(instanceBuild),
		"bundle_vol_command": impl(instanceBuild), "bundle_upload_command": impl(instanceBuild),
		"x509_upload_path": impl(instanceBuild), "bundle_destination": impl(instanceBuild),
		"tpm_support": refuse(`tpm_support = "v2.0"`),
		// An instance-store image has no EBS snapshot to encrypt.
		"encrypt_boot": refuse(`encrypt_boot = true`), "kms_key_id": refuse(`kms_key_id = "alias/x"`),
		"region_kms_key_ids": refuse(`region_kms_key_ids = { us-east-1 = "alias/x" }`),
	}),
	"source/amazon-ebssurrogate": merge(builderAccess, amiFields, runFields, blockDevices, communicatorFields, timeoutFields, map[string]use{
		"ami_virtualization_type": impl(surrogateBuild), "ena_support": impl(surrogateBuild), "sriov_support": impl(surrogateBuild),
		"launch_block_device_mappings": impl(surrogateBuild), "ami_block_device_mappings": impl(surrogatePrepare),
		"launch_block_device_mappings.omit_from_artifact": impl(surrogateBuild),
		"ami_root_device": impl(surrogateBuild), "ami_root_device.source_device_name": impl(surrogateBuild),
		"ami_root_device.device_name": impl(surrogateBuild), "ami_root_device.delete_on_termination": impl(surrogateBuild),
		"ami_root_device.volume_type": impl(surrogateBuild), "ami_root_device.volume_size": impl(surrogateBuild),
		"ami_root_device.iops": impl(surrogateBuild), "snapshot_description": impl(surrogateBuild),
		"skip_ami_run_tags": impl(ebsSteps), "run_volume_tags": impl(ebsSteps),
		"run_volume_tag": impl(surrogatePrepare), "run_volume_tag.name": impl(surrogatePrepare), "run_volume_tag.value": impl(surrogatePrepare),
		"ami_architecture": impl(surrogateBuild), "boot_mode": impl(surrogateBuild), "uefi_data": impl(surrogateBuild),
		"tpm_support": impl(surrogateBuild), "use_create_image": refuse(`use_create_image = true`),
	}),
	"data/amazon-ami": merge(queryAccess, map[string]use{
		"filters": impl(amiFind), "owners": impl(amiFind), "most_recent": impl(amiFind), "include_deprecated": impl(amiFind),
	}),
	"data/http": implAll(httpFetch, "url", "method", "request_headers", "request_body"),
	"data/amazon-parameterstore": merge(queryAccess, map[string]use{
		"name": impl(paramGet), "with_decryption": impl(paramGet),
		"custom_endpoint_ec2": refuse(`custom_endpoint_ec2 = "http://127.0.0.1:4566"`),
	}),
	"provisioner/powershell": merge(scriptFields("provisioners/powershell"), map[string]use{
		"execute_command": impl("provisioners/powershell"), "elevated_user": impl("provisioners/powershell"),
		"elevated_password": impl("provisioners/powershell"), "elevated_execute_command": impl("provisioners/powershell"),
		"remote_path": impl("provisioners/powershell"), "remote_env_var_path": impl("provisioners/powershell"),
		"start_retry_timeout": impl("provisioners/powershell"), "valid_exit_codes": impl("provisioners/powershell"),
		"execution_policy": impl("provisioners/powershell"), "scripts": impl(scriptLoad),
		"use_pwsh": impl(psConfig), "debug_mode": impl(psConfig), // defaults of execute_command
		"pause_after": impl("provisioners/powershell"),
	}),
	"provisioner/windows-shell": merge(scriptFields("provisioners/windowsshell"), map[string]use{
		"execute_command": impl("provisioners/windowsshell"), "env_var_format": impl("provisioners/windowsshell"),
		"remote_path": impl("provisioners/windowsshell"), "valid_exit_codes": impl("provisioners/windowsshell"),
		"start_retry_timeout": impl("provisioners/windowsshell"), "scripts": impl(scriptLoad),
	}),
	"provisioner/windows-restart": implAll("provisioners/windowsrestart", "restart_command", "restart_check_command",
		"restart_timeout", "check_registry", "registry_keys"),
	"provisioner/sysprep": merge(implAll("provisioners/sysprep", "agent", "windows_version", "admin_password", "computer_name",
		"zero_free_space"), map[string]use{
		// read through the defaults in config.go (runUserData, cleanTemp)
		"run_user_data": impl("provisioners/sysprep/config.go"), "clean_temp": impl("provisioners/sysprep/config.go"),
	}),
	"provisioner/shell": merge(scriptFields("provisioners/shell"), map[string]use{
		"execute_command": impl("provisioners/shell"), "inline_shebang": impl("provisioners/shell"),
		"remote_folder": impl("provisioners/shell"), "remote_file": impl(shellConfig), "remote_path": impl("provisioners/shell"),
		"expect_disconnect": impl("provisioners/shell"), "valid_exit_codes": impl("provisioners/shell"),
		"skip_clean": impl("provisioners/shell"), "start_retry_timeout": impl("provisioners/shell"),
		"binary": impl("provisioners/shell"), "use_env_var_file": impl("provisioners/shell/config.go"), "env_var_format": impl("provisioners/shell"),
		"pause_after": impl("provisioners/shell"),
	}),
	"provisioner/file": {
		"content": impl("provisioners/file"), "source": impl(fileConfig), "sources": impl("provisioners/file"),
		"destination": impl("provisioners/file"), "direction": impl("provisioners/file"), "generated": impl(fileConfig),
	},
	"provisioner/shell-local":    shellLocalFields(),
	"post-processor/shell-local": shellLocalFields(),
	"post-processor/amazon-ssm-parameter": merge(ppAccess, implAll("postprocessors/ssmparameter",
		"name", "description", "tags", "boot_payload_name")),
	"post-processor/amazon-launch-template": merge(ppAccess, implAll("postprocessors/launchtemplate",
		"launch_template_name", "launch_template_id", "set_default", "version_description")),
	"post-processor/retention": merge(ppAccess, implAll("postprocessors/retention", "keep", "deprecate_after", "delete")),
	"post-processor/manifest": {
		"output": impl("postprocessors/manifest"), "strip_path": impl("postprocessors/manifest"),
		"strip_time": impl("postprocessors/manifest"), "custom_data": impl("postprocessors/manifest"),
	},
}

var accessFields = map[string]use{
	"region": impl(awsSession), "access_key": impl(awsSession), "secret_key": impl(awsSession), "token": impl(awsSession),
	"profile": impl(awsSession), "shared_credentials_file": impl(awsSession), "custom_endpoint_ec2": impl(awsSession),
	"skip_metadata_api_check": impl(awsSession), "skip_credential_validation": impl(awsSession), "max_retries": impl(awsSession),
	"assume_role": impl(awsSession), "assume_role.role_arn": impl(awsSession), "assume_role.duration_seconds": impl(awsSession),
	"assume_role.external_id": impl(awsSession), "assume_role.policy": impl(awsSession), "assume_role.policy_arns": impl(awsSession),
	"assume_role.session_name": impl(awsSession), "assume_role.tags": impl(awsSession), "assume_role.transitive_tag_keys": impl(awsSession),
	"vault_aws_engine":              refuse("vault_aws_engine {\n  name = \"builder\"\n}"),
	"mfa_code":                      refuse(`mfa_code = "123456"`),
	"decode_authorization_messages": refuse(`decode_authorization_messages = true`),
	"insecure_skip_tls_verify":      refuse(`insecure_skip_tls_verify = true`),
}

// ppAccess are the access settings of the AWS post-processors
// (regional.Access): the builders' without aws_polling and the refused
// ones.
var ppAccess = merge(implAll(ppRegional, "region", "access_key", "secret_key", "token", "profile",
	"shared_credentials_file", "custom_endpoint_ec2", "skip_metadata_api_check", "skip_credential_validation",
	"max_retries", "assume_role"),
	implAll(awsSession, "assume_role.role_arn", "assume_role.duration_seconds", "assume_role.external_id",
		"assume_role.policy", "assume_role.policy_arns", "assume_role.session_name", "assume_role.tags",
		"assume_role.transitive_tag_keys"))

var builderAccess = merge(accessFields, map[string]use{
	"aws_polling": impl(awsSession), "aws_polling.max_attempts": impl(awsSession), "aws_polling.delay_seconds": impl(awsSession),
})

var queryAccess = merge(accessFields, map[string]use{
	"aws_polling": refuse("aws_polling {\n  max_attempts = 5\n}"),
})

var amiFields = merge(implAll(ebsSteps, "ami_name", "ami_description", "ami_virtualization_type", "ami_users", "ami_groups",
	"ami_org_arns", "ami_ou_arns", "ami_product_codes", "snapshot_copy_duration_minutes", "tags", "snapshot_tags",
	"snapshot_users", "snapshot_groups", "ena_support", "sriov_support", "force_deregister", "force_delete_snapshot",
	"encrypt_boot", "kms_key_id", "region_kms_key_ids", "skip_save_build_region", "imds_support", "deprecate_at",
	"deregistration_protection", "deregistration_protection.enabled", "deregistration_protection.with_cooldown"),
	map[string]use{
		"ami_regions": impl(ebsSteps), "skip_region_validation": impl(amiPrepare),
		"tag": impl(amiPrepare), "tag.key": impl(mergeTags), "tag.value": impl(mergeTags),
		"snapshot_tag": impl(amiPrepare), "snapshot_tag.key": impl(mergeTags), "snapshot_tag.value": impl(mergeTags),
	})

var runFields = merge(implAll(ebsSteps, "instance_type", "source_ami", "source_build", "source_ami_filter", "source_ami_filter.filters",
	"source_ami_filter.owners", "source_ami_filter.most_recent", "source_ami_filter.include_deprecated",
	"subnet_id", "subnet_filter", "subnet_filter.filters", "subnet_filter.most_free", "subnet_filter.random", "vpc_id",
	"security_group_ids", "associate_public_ip_address", "availability_zone", "temporary_security_group_source_cidrs",
	"temporary_security_group_source_public_ip", "iam_instance_profile", "run_tags", "user_data", "user_data_file",
	"shutdown_behavior", "disable_stop_instance", "ebs_optimized", "enable_nitro_enclave", "enable_unlimited_credits",
	"capacity_reservation_preference", "capacity_reservation_id", "capacity_reservation_group_arn",
	"placement", "placement.host_resource_group_arn", "placement.host_id", "placement.tenancy",
	"metadata_options", "metadata_options.http_endpoint", "metadata_options.http_tokens",
	"metadata_options.http_put_response_hop_limit", "metadata_options.instance_metadata_tags", "ssh_interface"),
	map[string]use{
		"security_group_id": impl(runPrepare), // joins security_group_ids
		"run_tag":           impl(runPrepare), "run_tag.key": impl(mergeTags), "run_tag.value": impl(mergeTags),
		"vpc_filter":                    impl(ebsSteps),
		"vpc_filter.filters":            impl(ebsSteps),
		"security_group_filter":         impl(ebsSteps),
		"security_group_filter.filters": impl(ebsSteps),
		"skip_profile_validation":       refuse(`skip_profile_validation = true`),
		"spot_price":                    impl(ebsSteps),
		"spot_instance_types":           impl(ebsSteps),
		"spot_allocation_strategy":      impl(ebsSteps),
		"spot_tags":                     impl(ebsSteps),
		"fleet_tags":                    impl(ebsSteps),
		"spot_tag":                      impl(runPrepare), "spot_tag.key": impl(mergeTags), "spot_tag.value": impl(mergeTags),
		"fleet_tag": impl(runPrepare), "fleet_tag.key": impl(mergeTags), "fleet_tag.value": impl(mergeTags),
		"pause_before_ssm":         refuse(`pause_before_ssm = "30s"`),
		"session_manager_port":     refuse(`session_manager_port = 8022`),
		"windows_password_timeout": impl(ebsSteps),
	})

var blockDevices = func() map[string]use {
	m := map[string]use{}
	for _, b := range []string{"launch_block_device_mappings", "ami_block_device_mappings"} {
		m[b] = impl(ebsSteps)
		for _, f := range []string{"device_name", "volume_type", "volume_size", "iops", "throughput", "encrypted",
			"kms_key_id", "snapshot_id", "delete_on_termination", "virtual_name", "no_device"} {
			m[b+"."+f] = impl(ebsSteps)
		}
	}
	return m
}()

var communicatorFields = merge(implAll(ebsSteps, "communicator", "pause_before_connecting", "ssh_host", "ssh_port",
	"ssh_username", "ssh_password", "ssh_handshake_attempts", "ssh_keypair_name", "ssh_private_key_file", "ssh_agent_auth",
	"ssh_certificate_file", "ssh_pty", "ssh_file_transfer_method", "ssh_keep_alive_interval", "ssh_bastion_host",
	"ssh_bastion_port", "ssh_bastion_username", "ssh_bastion_password", "ssh_bastion_private_key_file",
	"ssh_bastion_agent_auth", "temporary_key_pair_name", "temporary_key_pair_type", "temporary_key_pair_bits",
	"ssh_ciphers", "ssh_key_exchange_algorithms", "ssh_read_write_timeout", "ssh_disable_agent_forwarding",
	"ssh_local_tunnels", "ssh_remote_tunnels", "ssh_proxy_host", "ssh_proxy_port", "ssh_proxy_username",
	"ssh_proxy_password", "ssh_bastion_interactive", "ssh_bastion_certificate_file",
	"winrm_username", "winrm_password", "winrm_host", "winrm_port", "winrm_use_ssl", "winrm_insecure", "winrm_use_ntlm",
	"winrm_no_proxy"),
	map[string]use{
		"ssh_timeout":               impl(srcPrepare), // the default of timeouts.ssh, which the connect step reads
		"ssh_clear_authorized_keys": impl(ebsSteps),
		"winrm_timeout":             impl(srcPrepare), // the default of timeouts.ssh for WinRM
	})

var timeoutFields = implAll(ebsSteps, "timeouts", "timeouts.instance_running", "timeouts.instance_stopped",
	"timeouts.instance_terminated", "timeouts.image_available", "timeouts.copy_available", "timeouts.ssh")

// scriptFields are the script.Source and script.Env fields of a
// provisioner whose runtime is in dir.
func scriptFields(dir string) map[string]use {
	return map[string]use{
		"inline": impl(dir), "script": impl(scriptMerge), "scripts": impl(dir),
		"environment_vars": impl(scriptVars), "env": impl(scriptVars),
	}
}

func shellLocalFields() map[string]use {
	return merge(scriptFields(localRun), map[string]use{
		"command": impl(localRun), "execute_command": impl(localRun), "inline_shebang": impl(localRun),
		"only_on": impl(localRun), "valid_exit_codes": impl(localRun),
		"env":               impl(scriptVars, localPP),
		"use_linux_pathing": refuse(`use_linux_pathing = true`),
	})
}

func implAll(where string, paths ...string) map[string]use {
	m := map[string]use{}
	for _, p := range paths {
		m[p] = impl(where)
	}
	return m
}

func merge(tables ...map[string]use) map[string]use {
	m := map[string]use{}
	for _, t := range tables {
		maps.Copy(m, t)
	}
	return m
}
