package amazon

import (
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
)

// Prepare fills defaults and checks the run configuration. The settings
// refused by refuseUnimplemented get no further checks.
func (c *RunConfig) Prepare(ctx *check.Context) {
	setString(&c.InstanceInitiatedShutdownBehavior, "stop")
	c.prepareSource(ctx)
	c.prepareNetwork(ctx)
	c.prepareUserData(ctx)
	c.prepareMetadata(ctx)
	c.RunTags = MergeTags(ctx, "run_tags", c.RunTags, c.RunTag)
	c.prepareSpot(ctx)
	c.prepareFeatures(ctx)
	setString(&c.WindowsPasswordTimeout, "20m")
	ctx.DurationAttr(check.Path("windows_password_timeout"), c.WindowsPasswordTimeout)
	ctx.Enum(check.Path("shutdown_behavior"), c.InstanceInitiatedShutdownBehavior, "stop", "terminate")
	ctx.Enum(check.Path("placement", "tenancy"), c.Placement.Tenancy, "default", "dedicated", "host")
	ctx.Enum(check.Path("ssh_interface"), c.SSHInterface, "public_ip", "private_ip", "public_dns", "private_dns", "session_manager")
}

func (c *RunConfig) prepareSource(ctx *check.Context) {
	hasID := ctx.Set(c.SourceAMI != "", "source_ami")
	hasFilter := ctx.Set(!c.SourceAMIFilter.Empty(), "source_ami_filter")
	hasBuild := ctx.Set(c.SourceBuild != "", "source_build")
	n := 0
	for _, set := range []bool{hasID, hasFilter, hasBuild} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		ctx.Errorf(check.Path("source_ami"), "Conflicting source AMI", "Set one of source_ami, source_ami_filter and source_build.")
	case n == 0:
		ctx.Errorf(check.Path("source_ami"), "Missing source AMI",
			"Set source_ami to an AMI ID, source_ami_filter to find one, or source_build to start from another build's image.")
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
		ctx.Errorf(check.Path("security_group_filter"), "Conflicting security groups",
			"Set security_group_ids (or security_group_id) or security_group_filter, not both.")
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
		ctx.Check(check.Path("user_data"), "Invalid Windows user data", check.WindowsUserData(c.UserData))
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
	ctx.Check(path, "Invalid Windows user data", check.WindowsUserData(string(data)))
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

// burstableRE matches the instance types that accept unlimited CPU
// credits (T2, T3, T3a, T4g), as Packer checks them.
var burstableRE = regexp.MustCompile(`^t(2|3a?|4g)\.`)

// prepareFeatures checks the RunInstances options capacity_reservation_*,
// enable_unlimited_credits and enable_nitro_enclave against each other and
// the instance type, with Packer's rules. Like Packer, a build that names
// no capacity reservation launches with the preference "none", so it never
// uses capacity reserved for other workloads.
func (c *RunConfig) prepareFeatures(ctx *check.Context) {
	hasTarget := c.CapacityReservationID != "" || c.CapacityReservationGroupArn != ""
	if c.CapacityReservationID != "" && c.CapacityReservationGroupArn != "" {
		ctx.Errorf(check.Path("capacity_reservation_group_arn"), "Conflicting capacity reservations",
			"Set capacity_reservation_id or capacity_reservation_group_arn, not both.")
	}
	if hasTarget && c.CapacityReservationPreference != "" {
		ctx.Errorf(check.Path("capacity_reservation_preference"), "Conflicting capacity reservation settings",
			"capacity_reservation_preference cannot go with capacity_reservation_id or capacity_reservation_group_arn, which target a reservation.")
	}
	if !hasTarget && !ctx.IsUnknown("capacity_reservation_id") && !ctx.IsUnknown("capacity_reservation_group_arn") {
		setString(&c.CapacityReservationPreference, "none")
	}
	ctx.Enum(check.Path("capacity_reservation_preference"), c.CapacityReservationPreference, "open", "none")
	if ctx.IsUnknown("instance_type") || ctx.IsUnknown("spot_instance_types") {
		return
	}
	for _, t := range c.instanceTypes() {
		if c.EnableUnlimitedCredits && !burstableRE.MatchString(t) {
			ctx.Errorf(check.Path("enable_unlimited_credits"), "Unlimited credits need a burstable instance type",
				"enable_unlimited_credits needs a T2, T3, T3a or T4g instance type, not %q.", t)
		}
		if c.EnableUnlimitedCredits && c.IsSpotInstance() && strings.HasPrefix(t, "t2.") {
			ctx.Errorf(check.Path("enable_unlimited_credits"), "Unlimited credits cannot go with a T2 spot instance",
				"EC2 does not run T2 spot instances with unlimited credits (%q); remove enable_unlimited_credits or spot_price.", t)
		}
		if c.EnableNitroEnclave && strings.HasPrefix(t, "t") {
			ctx.Errorf(check.Path("enable_nitro_enclave"), "Nitro Enclaves need a non-burstable instance type",
				"enable_nitro_enclave cannot go with the burstable instance type %q; choose for example an m5 or c6i type.", t)
		}
	}
}

// instanceTypes returns the types the build may launch: instance_type, or
// spot_instance_types.
func (c *RunConfig) instanceTypes() []string {
	if c.InstanceType != "" {
		return []string{c.InstanceType}
	}
	return c.SpotInstanceTypes
}

// IsSpotInstance reports whether the build launches a spot instance:
// spot_price is set and not "0", as in Packer.
func (c *RunConfig) IsSpotInstance() bool {
	return c.SpotPrice != "" && c.SpotPrice != "0"
}

// spotPriceRE matches a spot_price that is a price: a positive decimal
// number of USD per hour.
var spotPriceRE = regexp.MustCompile(`^(0|[1-9][0-9]*)?(\.[0-9]+)?$`)

// spotAllocationStrategies are the values EC2 accepts for a fleet's spot
// allocation strategy.
var spotAllocationStrategies = []string{
	"lowest-price", "diversified", "capacity-optimized", "capacity-optimized-prioritized", "price-capacity-optimized",
}

// prepareSpot checks instance_type against spot_instance_types (exactly
// one of them, as in Packer) and the spot settings, which all need a spot
// launch (spot_price set and not "0"). Packer ignores some of them
// without spot_price (spot_instance_types fails at launch, with no
// instance type, and spot_allocation_strategy is dropped); imgbuild
// refuses them, so no setting is silently ignored. The settings a spot
// launch cannot honour (Nitro Enclaves, a capacity reservation) are
// refused with it.
func (c *RunConfig) prepareSpot(ctx *check.Context) {
	c.SpotTags = MergeTags(ctx, "spot_tags", c.SpotTags, c.SpotTag)
	c.FleetTags = MergeTags(ctx, "fleet_tags", c.FleetTags, c.FleetTag)
	hasType := ctx.Set(c.InstanceType != "", "instance_type")
	hasSpotTypes := ctx.Set(len(c.SpotInstanceTypes) > 0, "spot_instance_types")
	switch {
	case hasType && hasSpotTypes:
		ctx.Errorf(check.Path("spot_instance_types"), "Conflicting instance types",
			"Set instance_type or spot_instance_types, not both: spot_instance_types replaces instance_type.")
	case !hasType && !hasSpotTypes:
		ctx.Errorf(check.Path("instance_type"), "Missing required argument",
			"The argument \"instance_type\" is required (or spot_instance_types, with spot_price, to launch a spot instance on one of several types).")
	}
	for i, t := range c.SpotInstanceTypes {
		if t == "" && !ctx.IsUnknown("spot_instance_types") {
			ctx.Errorf(check.Path("spot_instance_types"), "Invalid spot_instance_types", "Element %d is empty.", i+1)
		}
	}
	spot := ctx.Set(c.IsSpotInstance(), "spot_price")
	if c.IsSpotInstance() && c.SpotPrice != "auto" && !spotPriceRE.MatchString(c.SpotPrice) {
		ctx.Errorf(check.Path("spot_price"), "Invalid spot_price",
			"spot_price must be \"auto\" (at most the on-demand price) or a price in USD per hour such as \"0.05\", not %q.", c.SpotPrice)
	}
	ctx.Enum(check.Path("spot_allocation_strategy"), c.SpotAllocationStrategy, spotAllocationStrategies...)
	if !spot {
		for _, s := range []struct {
			name string
			set  bool
		}{
			{"spot_instance_types", hasSpotTypes && !hasType},
			{"spot_tags", len(c.SpotTags) > 0 || ctx.IsUnknown("spot_tags")},
			{"fleet_tags", len(c.FleetTags) > 0 || ctx.IsUnknown("fleet_tags")},
			{"spot_allocation_strategy", ctx.Set(c.SpotAllocationStrategy != "", "spot_allocation_strategy")},
		} {
			if s.set {
				ctx.Errorf(check.Path(s.name), "Spot setting without spot_price",
					"%s only applies to a spot instance: set spot_price (\"auto\" or a maximum price) to launch one, or remove %s.", s.name, s.name)
			}
		}
		return
	}
	if c.EnableNitroEnclave {
		ctx.Errorf(check.Path("enable_nitro_enclave"), "Nitro Enclaves cannot go with a spot instance",
			"Remove enable_nitro_enclave or spot_price: EC2 runs no Nitro Enclaves on spot instances.")
	}
	for _, name := range []string{"capacity_reservation_id", "capacity_reservation_group_arn"} {
		v := c.CapacityReservationID
		if name == "capacity_reservation_group_arn" {
			v = c.CapacityReservationGroupArn
		}
		if ctx.Set(v != "", name) {
			ctx.Errorf(check.Path(name), "Capacity reservations do not apply to spot instances",
				"Remove %s or spot_price: a spot instance never runs in a capacity reservation.", name)
		}
	}
	if c.CapacityReservationPreference == "open" {
		ctx.Errorf(check.Path("capacity_reservation_preference"), "Capacity reservations do not apply to spot instances",
			"Remove capacity_reservation_preference or spot_price: a spot instance never runs in a capacity reservation.")
	}
}
