package amazon

import (
	"os"
	"slices"
	"strconv"

	"github.com/imgbuild/imgbuild/internal/check"
)

// Prepare fills defaults and checks the run configuration.
func (c *RunConfig) Prepare(ctx *check.Context) {
	setString(&c.InstanceInitiatedShutdownBehavior, "stop")
	setString(&c.WindowsPasswordTimeout, "20m")
	c.prepareSource(ctx)
	c.prepareNetwork(ctx)
	c.prepareUserData(ctx)
	c.prepareMetadata(ctx)
	c.RunTags = MergeTags(ctx, "run_tags", c.RunTags, c.RunTag)
	ctx.Enum(check.Path("shutdown_behavior"), c.InstanceInitiatedShutdownBehavior, "stop", "terminate")
	ctx.Enum(check.Path("placement", "tenancy"), c.Placement.Tenancy, "default", "dedicated", "host")
	ctx.Enum(check.Path("capacity_reservation_preference"), c.CapacityReservationPreference, "open", "none")
	ctx.Enum(check.Path("spot_allocation_strategy"), c.SpotAllocationStrategy,
		"lowest-price", "diversified", "capacity-optimized", "capacity-optimized-prioritized", "price-capacity-optimized")
	ctx.Enum(check.Path("ssh_interface"), c.SSHInterface, "public_ip", "private_ip", "public_dns", "private_dns", "session_manager")
	if c.SSHInterface == "session_manager" && c.IamInstanceProfile == "" && !ctx.IsUnknown("iam_instance_profile") {
		ctx.Errorf(check.Path("ssh_interface"), "session_manager needs an instance profile",
			"ssh_interface = \"session_manager\" needs iam_instance_profile naming a profile with the AmazonSSMManagedInstanceCore policy.")
	}
	ctx.DurationAttr(check.Path("pause_before_ssm"), c.PauseBeforeSSM)
	ctx.DurationAttr(check.Path("windows_password_timeout"), c.WindowsPasswordTimeout)
	if p := c.SessionManagerPort; p < 0 || p > 65535 {
		ctx.Errorf(check.Path("session_manager_port"), "Invalid value for session_manager_port", "session_manager_port must be from 0 to 65535, got %d", p)
	}
	c.prepareSpot(ctx)
}

func (c *RunConfig) prepareSource(ctx *check.Context) {
	hasID := ctx.Set(c.SourceAMI != "", "source_ami")
	hasFilter := ctx.Set(!c.SourceAMIFilter.Empty(), "source_ami_filter")
	switch {
	case hasID && hasFilter:
		ctx.Errorf(check.Path("source_ami"), "Conflicting source AMI", "Set source_ami or source_ami_filter, not both.")
	case !hasID && !hasFilter:
		ctx.Errorf(check.Path("source_ami"), "Missing source AMI", "Set source_ami to an AMI ID, or source_ami_filter to find one.")
	}
	if c.SourceAMI != "" {
		ctx.Check(check.Path("source_ami"), "Invalid source_ami", check.AMIID(c.SourceAMI))
	}
	f := c.SourceAMIFilter
	if !f.Empty() && len(f.Owners) == 0 && !ctx.IsUnknown("source_ami_filter", "owners") &&
		f.Filters["owner-id"] == "" && f.Filters["owner-alias"] == "" && f.Filters["image-id"] == "" {
		ctx.Errorf(check.Path("source_ami_filter"), "Missing owners in source_ami_filter",
			"Set owners (for example [\"self\"] or [\"099720109477\"]) so an AMI published by anyone else can never be picked.")
	}
}

func (c *RunConfig) prepareNetwork(ctx *check.Context) {
	if c.SecurityGroupID != "" && !slices.Contains(c.SecurityGroupIDs, c.SecurityGroupID) {
		c.SecurityGroupIDs = append([]string{c.SecurityGroupID}, c.SecurityGroupIDs...)
	}
	if len(c.SecurityGroupIDs) > 0 && len(c.SecurityGroupFilter.Filters) > 0 {
		ctx.Errorf(check.Path("security_group_filter"), "Conflicting security groups", "Set security_group_ids (or security_group_id) or security_group_filter, not both.")
	}
	if c.SubnetFilter.MostFree && c.SubnetFilter.Random {
		ctx.Errorf(check.Path("subnet_filter", "random"), "Conflicting subnet choice", "Set most_free or random in subnet_filter, not both.")
	}
	for _, cidr := range c.TemporarySGSourceCidrs {
		ctx.Check(check.Path("temporary_security_group_source_cidrs"), "Invalid CIDR block", check.CIDR(cidr))
	}
	if len(c.TemporarySGSourceCidrs) > 0 && c.TemporarySGSourcePublicIP {
		ctx.Errorf(check.Path("temporary_security_group_source_public_ip"), "Conflicting temporary security group sources",
			"Set temporary_security_group_source_cidrs or temporary_security_group_source_public_ip, not both.")
	}
}

func (c *RunConfig) prepareUserData(ctx *check.Context) {
	if ctx.Set(c.UserData != "", "user_data") && ctx.Set(c.UserDataFile != "", "user_data_file") {
		ctx.Errorf(check.Path("user_data_file"), "Conflicting user data", "Set user_data or user_data_file, not both.")
		return
	}
	if c.UserData != "" {
		ctx.Check(check.Path("user_data"), "User data too large", check.UserDataSize(len(c.UserData)))
	}
	if c.UserDataFile == "" {
		return
	}
	path := check.Path("user_data_file")
	if err := check.FileExists(ctx.BaseDir, c.UserDataFile); err != nil {
		ctx.Check(path, "File not found for user_data_file", err)
		return
	}
	data, err := os.ReadFile(check.Resolve(ctx.BaseDir, c.UserDataFile))
	if err != nil {
		ctx.Check(path, "Unreadable user_data_file", err)
		return
	}
	ctx.Check(path, "User data too large", check.UserDataSize(len(data)))
}

func (c *RunConfig) prepareMetadata(ctx *check.Context) {
	m := &c.MetadataOptions
	setString(&m.HTTPEndpoint, "enabled")
	setString(&m.HTTPTokens, "required")
	setInt(&m.HTTPPutResponseHopLimit, 1)
	setString(&m.InstanceMetadataTags, "disabled")
	ctx.Enum(check.Path("metadata_options", "http_endpoint"), m.HTTPEndpoint, "enabled", "disabled")
	ctx.Enum(check.Path("metadata_options", "http_tokens"), m.HTTPTokens, "optional", "required")
	ctx.Enum(check.Path("metadata_options", "instance_metadata_tags"), m.InstanceMetadataTags, "enabled", "disabled")
	if h := m.HTTPPutResponseHopLimit; h < 1 || h > 64 {
		ctx.Errorf(check.Path("metadata_options", "http_put_response_hop_limit"), "Invalid value for http_put_response_hop_limit",
			"http_put_response_hop_limit must be from 1 to 64, got %d", h)
	}
}

func (c *RunConfig) prepareSpot(ctx *check.Context) {
	if c.SpotPrice != "" && c.SpotPrice != "auto" {
		if p, err := strconv.ParseFloat(c.SpotPrice, 64); err != nil || p <= 0 {
			ctx.Errorf(check.Path("spot_price"), "Invalid value for spot_price", "spot_price must be \"auto\" or a positive price in USD such as \"0.05\", got %q", c.SpotPrice)
		}
	}
	if len(c.SpotInstanceTypes) > 0 && c.SpotPrice == "" && !ctx.IsUnknown("spot_price") {
		ctx.Errorf(check.Path("spot_instance_types"), "spot_instance_types needs spot_price", "Set spot_price (\"auto\" or a price) to launch a spot instance.")
	}
}
