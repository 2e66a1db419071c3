package amazon

// RunConfig describes the instance launched to build the image.
type RunConfig struct {
	// InstanceType is the EC2 instance type, e.g. "t3.micro". Required
	// unless spot_instance_types is set; not with spot_instance_types.
	InstanceType string `hcl:"instance_type"`
	// SourceAMI is the ID of the AMI to start from (ami- and 8 or 17 hex
	// digits). Exactly one of source_ami, source_ami_filter and
	// source_build is required.
	SourceAMI string `hcl:"source_ami" fingerprint:"-"`
	// SourceAMIFilter finds the source AMI by filters instead of by ID.
	SourceAMIFilter AMIFilter `hcl:"source_ami_filter,block" fingerprint:"-"`
	// SourceBuild names another build of the same run whose image, in
	// this source's region, is the source AMI (an imgbuild extension for
	// layered builds): the build's name, or the full name
	// "build.type.name" when that build has several sources. Instead of
	// source_ami and source_ami_filter.
	SourceBuild string `hcl:"source_build" fingerprint:"-"`
	// SubnetID is the subnet to launch in. Default: the default VPC's
	// subnet chosen by EC2.
	SubnetID string `hcl:"subnet_id" fingerprint:"-"`
	// SubnetFilter finds the subnet by filters instead of by ID.
	SubnetFilter SubnetFilter `hcl:"subnet_filter,block" fingerprint:"-"`
	// VpcID is the VPC to launch in; needed with a subnet_filter spanning VPCs.
	VpcID string `hcl:"vpc_id" fingerprint:"-"`
	// VpcFilter finds the VPC by filters (DescribeVpcs) instead of by ID;
	// exactly one VPC must match. It limits subnet_filter and
	// security_group_filter to that VPC and holds the temporary security
	// group. Ignored with vpc_id or subnet_id.
	VpcFilter Filter `hcl:"vpc_filter,block" fingerprint:"-"`
	// SecurityGroupID is one security group to attach; it is added to
	// security_group_ids. Default: a temporary group opening the
	// communicator port.
	SecurityGroupID string `hcl:"security_group_id" fingerprint:"-"`
	// SecurityGroupIDs are the security groups to attach. Not with
	// security_group_filter.
	SecurityGroupIDs []string `hcl:"security_group_ids" fingerprint:"-"`
	// SecurityGroupFilter finds the security groups by filters
	// (DescribeSecurityGroups, within the build's VPC): the instance gets
	// every match, at least one. Not with security_group_ids.
	SecurityGroupFilter Filter `hcl:"security_group_filter,block" fingerprint:"-"`
	// AssociatePublicIPAddress gives the instance a public IP (true) or not
	// (false). Default: unset, the subnet's setting.
	AssociatePublicIPAddress *bool `hcl:"associate_public_ip_address" fingerprint:"-"`
	// AvailabilityZone is the zone to launch in. Default: chosen by EC2.
	AvailabilityZone string `hcl:"availability_zone" fingerprint:"-"`
	// TemporarySGSourceCidrs are the CIDR blocks the temporary security
	// group admits. Default: none (loopback for a loopback endpoint):
	// imgbuild never opens the group to 0.0.0.0/0 by itself. Not with
	// temporary_security_group_source_public_ip.
	TemporarySGSourceCidrs []string `hcl:"temporary_security_group_source_cidrs" fingerprint:"-"`
	// TemporarySGSourcePublicIP admits only this machine's public IPv4
	// address (/32) in the temporary security group, asked from
	// https://checkip.amazonaws.com as Packer does (the environment
	// variable IMGBUILD_PUBLIC_IP_URL replaces that address). Default: false.
	TemporarySGSourcePublicIP bool `hcl:"temporary_security_group_source_public_ip" fingerprint:"-"`
	// IamInstanceProfile is the instance profile to launch with.
	IamInstanceProfile string `hcl:"iam_instance_profile"`
	// SkipProfileValidation is Packer's switch to skip looking
	// iam_instance_profile up before the launch. imgbuild never looks it
	// up, so it is not implemented: validate refuses it.
	SkipProfileValidation bool `hcl:"skip_profile_validation" fingerprint:"-"`
	// RunTags are applied to the instance; values may hold legacy placeholders.
	RunTags map[string]string `hcl:"run_tags" fingerprint:"-"`
	// RunTag blocks add run tags like the run_tags map.
	RunTag []KeyValue `hcl:"run_tag,block" fingerprint:"-"`
	// SpotTags are applied, at creation, to the temporary launch template
	// of a spot launch and then to the spot instance request EC2 makes for
	// the instance. Needs spot_price.
	SpotTags map[string]string `hcl:"spot_tags" fingerprint:"-"`
	// SpotTag blocks add spot tags like the spot_tags map.
	SpotTag []KeyValue `hcl:"spot_tag,block" fingerprint:"-"`
	// FleetTags are applied, at creation, to the EC2 fleet (type
	// "instant") a spot launch goes through. Needs spot_price.
	FleetTags map[string]string `hcl:"fleet_tags" fingerprint:"-"`
	// FleetTag blocks add fleet tags like the fleet_tags map.
	FleetTag []KeyValue `hcl:"fleet_tag,block" fingerprint:"-"`
	// SpotPrice launches a spot instance instead of an on-demand one, as
	// Packer does: through CreateFleet (type "instant") with a temporary
	// launch template, deleted afterwards. It is the maximum hourly price
	// in USD, e.g. "0.05", or "auto" for EC2's default maximum, the
	// on-demand price. Default: "" (or "0"), an on-demand instance. A spot
	// instance is not stopped before the image is made: EC2 cannot stop a
	// one-time spot instance.
	SpotPrice string `hcl:"spot_price" fingerprint:"-"`
	// SpotInstanceTypes are the instance types a spot launch may choose
	// from (one fleet override each), instead of instance_type. Needs
	// spot_price; not with instance_type.
	SpotInstanceTypes []string `hcl:"spot_instance_types"`
	// SpotAllocationStrategy is the fleet's spot allocation strategy:
	// lowest-price, diversified, capacity-optimized,
	// capacity-optimized-prioritized or price-capacity-optimized. Needs
	// spot_price. Default: EC2's (lowest-price).
	SpotAllocationStrategy string `hcl:"spot_allocation_strategy" fingerprint:"-"`
	// UserData is user data for the build instance, at most 16 KB. Not
	// with user_data_file.
	UserData string `hcl:"user_data"`
	// UserDataFile is a file holding user data, at most 16 KB; it must
	// exist. Not with user_data.
	UserDataFile string `hcl:"user_data_file" fingerprint:"file"`
	// InstanceInitiatedShutdownBehavior is what a shutdown from inside the
	// instance does: "stop" (default) or "terminate".
	InstanceInitiatedShutdownBehavior string `hcl:"shutdown_behavior"`
	// DisableStopInstance leaves stopping the instance to the provisioners
	// (for example sysprep). Default: false.
	DisableStopInstance bool `hcl:"disable_stop_instance"`
	// EbsOptimized launches an EBS-optimized instance. Default: false.
	EbsOptimized bool `hcl:"ebs_optimized"`
	// EnableNitroEnclave launches the instance with Nitro Enclaves
	// enabled; not with burstable (t*) instance types. Default: false.
	EnableNitroEnclave bool `hcl:"enable_nitro_enclave"`
	// EnableUnlimitedCredits launches the instance with CPU credits
	// "unlimited"; only for T2, T3, T3a and T4g instance types.
	// Default: false.
	EnableUnlimitedCredits bool `hcl:"enable_unlimited_credits"`
	// CapacityReservationPreference is "open" (run in any matching open
	// capacity reservation) or "none". Not with capacity_reservation_id or
	// capacity_reservation_group_arn. Default: "none" unless one of those
	// targets a reservation, as in Packer.
	CapacityReservationPreference string `hcl:"capacity_reservation_preference" fingerprint:"-"`
	// CapacityReservationID targets one capacity reservation. Not with
	// capacity_reservation_group_arn.
	CapacityReservationID string `hcl:"capacity_reservation_id" fingerprint:"-"`
	// CapacityReservationGroupArn targets a capacity reservation group
	// (a resource group ARN). Not with capacity_reservation_id.
	CapacityReservationGroupArn string `hcl:"capacity_reservation_group_arn" fingerprint:"-"`
	// Placement sets the tenancy and host of the instance.
	Placement Placement `hcl:"placement,block" fingerprint:"-"`
	// MetadataOptions sets the instance metadata service options.
	MetadataOptions MetadataOptions `hcl:"metadata_options,block"`
	// SSHInterface is how to reach the instance: public_ip, private_ip,
	// public_dns or private_dns ("session_manager" is not implemented yet:
	// validate refuses it). Default: public address when there is one,
	// else private.
	SSHInterface string `hcl:"ssh_interface" fingerprint:"-"`
	// PauseBeforeSSM waits this long before opening a Session Manager
	// session. Not implemented yet: validate refuses it.
	PauseBeforeSSM string `hcl:"pause_before_ssm" fingerprint:"-"`
	// SessionManagerPort is the local port of the Session Manager tunnel.
	// Not implemented yet: validate refuses it.
	SessionManagerPort int `hcl:"session_manager_port" fingerprint:"-"`
	// WindowsPasswordTimeout is how long to wait for the Windows
	// Administrator password (GetPasswordData) when communicator is
	// "winrm" and winrm_password is not set. Default: "20m".
	WindowsPasswordTimeout string `hcl:"windows_password_timeout" fingerprint:"-"`
}

// Filter is a block holding EC2 API filters, e.g. vpc_filter {}.
type Filter struct {
	// Filters are EC2 Describe* filters, name to value, e.g.
	// { "tag:Class" = "build" }.
	Filters map[string]string `hcl:"filters"`
}

// AMIFilter is the source_ami_filter {} block.
type AMIFilter struct {
	// Filters are DescribeImages filters, e.g. { name = "ubuntu/*" }.
	Filters map[string]string `hcl:"filters"`
	// Owners are account IDs or aliases ("self", "amazon") that may own
	// the AMI. Required unless filters name an owner-id, owner-alias or
	// image-id, so a stranger's AMI is never picked.
	Owners []string `hcl:"owners"`
	// MostRecent picks the newest of several matches; without it several
	// matches are an error. Default: false.
	MostRecent bool `hcl:"most_recent"`
	// IncludeDeprecated also considers deprecated AMIs. Default: false.
	IncludeDeprecated bool `hcl:"include_deprecated"`
}

// Empty reports whether no filter attribute is set.
func (f AMIFilter) Empty() bool {
	return len(f.Filters) == 0 && len(f.Owners) == 0 && !f.MostRecent && !f.IncludeDeprecated
}

// SubnetFilter is the subnet_filter {} block.
type SubnetFilter struct {
	// Filters are DescribeSubnets filters.
	Filters map[string]string `hcl:"filters"`
	// MostFree picks the matching subnet with the most free addresses.
	// Default: false.
	MostFree bool `hcl:"most_free"`
	// Random picks a random matching subnet. Default: false.
	Random bool `hcl:"random"`
}

// Placement is the placement {} block.
type Placement struct {
	// HostResourceGroupArn is a host resource group to launch into.
	HostResourceGroupArn string `hcl:"host_resource_group_arn"`
	// HostID is a dedicated host to launch on.
	HostID string `hcl:"host_id"`
	// Tenancy is "default", "dedicated" or "host". Default: "default".
	Tenancy string `hcl:"tenancy"`
}

// MetadataOptions is the metadata_options {} block.
type MetadataOptions struct {
	// HTTPEndpoint is "enabled" (default) or "disabled".
	HTTPEndpoint string `hcl:"http_endpoint"`
	// HTTPTokens is "required" (IMDSv2 only, default) or "optional".
	HTTPTokens string `hcl:"http_tokens"`
	// HTTPPutResponseHopLimit is the hop limit of metadata responses,
	// 1 to 64. Default: 1.
	HTTPPutResponseHopLimit int `hcl:"http_put_response_hop_limit"`
	// InstanceMetadataTags is "enabled" or "disabled" (default): access to
	// instance tags from the metadata service.
	InstanceMetadataTags string `hcl:"instance_metadata_tags"`
}
