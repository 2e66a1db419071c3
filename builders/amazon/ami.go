package amazon

import (
	"maps"
	"regexp"
	"slices"

	"github.com/imgbuild/imgbuild/internal/check"
)

var accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)

// AMIConfig describes the AMI to create, its copies and its sharing.
type AMIConfig struct {
	// AMIName is the name of the AMI: 3 to 128 characters among letters,
	// digits and ( ) [ ] space . / - ' @ _, after rendering legacy
	// placeholders such as {{timestamp}}. Must be unique in the account and
	// region. Required.
	AMIName string `hcl:"ami_name" required:"true" fingerprint:"-"`
	// AMIDescription is the description of the AMI; it may hold legacy
	// placeholders.
	AMIDescription string `hcl:"ami_description" fingerprint:"-"`
	// AMIVirtType is "hvm" or "paravirtual". An amazon-ebs image always
	// has its source AMI's type: when set, the build checks the source has
	// it before launching. "paravirtual" cannot go with ena_support = true
	// or sriov_support. Default: that of the source AMI.
	AMIVirtType string `hcl:"ami_virtualization_type"`
	// AMIUsers are account IDs (12 digits) allowed to launch the AMI.
	AMIUsers []string `hcl:"ami_users"`
	// AMIGroups are groups allowed to launch the AMI; only "all" (public) exists.
	AMIGroups []string `hcl:"ami_groups"`
	// AMIOrgArns are AWS Organizations ARNs allowed to launch the AMI.
	AMIOrgArns []string `hcl:"ami_org_arns"`
	// AMIOuArns are organizational unit ARNs allowed to launch the AMI.
	AMIOuArns []string `hcl:"ami_ou_arns"`
	// AMIProductCodes are product codes attached to the AMI.
	AMIProductCodes []string `hcl:"ami_product_codes"`
	// AMIRegions are extra regions to copy the AMI to; duplicates are
	// removed. Each must be a region name such as eu-west-1.
	AMIRegions []string `hcl:"ami_regions" fingerprint:"-"`
	// AMISkipRegionValidation skips checking the names in ami_regions,
	// for regions this version does not know. Default: false.
	AMISkipRegionValidation bool `hcl:"skip_region_validation" fingerprint:"-"`
	// SnapshotCopyDurationMinutes requests a time-based snapshot copy that
	// completes within this many minutes: a multiple of 15, at least 15.
	// Default: 0, a normal copy.
	SnapshotCopyDurationMinutes int `hcl:"snapshot_copy_duration_minutes" fingerprint:"-"`
	// Tags are applied to the AMI in every region; values may hold legacy
	// placeholders such as {{ .SourceAMIName }} or {{ .BuildRegion }}.
	Tags map[string]string `hcl:"tags" fingerprint:"-"`
	// Tag blocks add tags like the tags map; the map wins on duplicate keys.
	Tag []KeyValue `hcl:"tag,block" fingerprint:"-"`
	// SnapshotTags are applied to the AMI's snapshots in every region.
	SnapshotTags map[string]string `hcl:"snapshot_tags" fingerprint:"-"`
	// SnapshotTag blocks add snapshot tags like the snapshot_tags map.
	SnapshotTag []KeyValue `hcl:"snapshot_tag,block" fingerprint:"-"`
	// SnapshotUsers are account IDs (12 digits) allowed to create volumes
	// from the AMI's snapshots.
	SnapshotUsers []string `hcl:"snapshot_users"`
	// SnapshotGroups are groups allowed to create volumes from the
	// snapshots; only "all" exists.
	SnapshotGroups []string `hcl:"snapshot_groups"`
	// AMIENASupport enables (true) or disables (false) ENA on the AMI.
	// Default: unset, inherited from the source.
	AMIENASupport *bool `hcl:"ena_support"`
	// AMISriovNetSupport enables enhanced networking (SR-IOV). Default: false.
	AMISriovNetSupport bool `hcl:"sriov_support"`
	// AMIForceDeregister deregisters an existing AMI with the same name
	// before creating the new one. Default: false.
	AMIForceDeregister bool `hcl:"force_deregister" fingerprint:"-"`
	// AMIForceDeleteSnapshot also deletes the snapshots of an AMI that
	// force_deregister removes. Default: false.
	AMIForceDeleteSnapshot bool `hcl:"force_delete_snapshot" fingerprint:"-"`
	// AMIEncryptBootVolume encrypts (true) or decrypts (false) the boot
	// volume of the AMI. Default: unset, as the source.
	AMIEncryptBootVolume *bool `hcl:"encrypt_boot"`
	// AMIKmsKeyID is the KMS key that encrypts the boot volume in the build
	// region; requires encrypt_boot = true. Default: the account's EBS key.
	AMIKmsKeyID string `hcl:"kms_key_id"`
	// AMIRegionKMSKeyIDs maps each copy region to the KMS key used there.
	// Keys must be regions of ami_regions (or the build region); when set,
	// every region of ami_regions needs a key. Not allowed with encrypt_boot = false.
	AMIRegionKMSKeyIDs map[string]string `hcl:"region_kms_key_ids"`
	// AMISkipBuildRegion removes the AMI from the build region once the
	// copies exist. Default: false.
	AMISkipBuildRegion bool `hcl:"skip_save_build_region"`
	// AMIIMDSSupport is "v2.0" to make instances launched from the AMI
	// require IMDSv2. Default: unset.
	AMIIMDSSupport string `hcl:"imds_support"`
	// DeprecationTime deprecates the AMI at this RFC 3339 time, e.g.
	// "2030-01-02T15:04:05Z". Default: never.
	DeprecationTime string `hcl:"deprecate_at" fingerprint:"-"`
	// DeregistrationProtection protects the AMI from deregistration.
	DeregistrationProtection DeregistrationProtection `hcl:"deregistration_protection,block"`
}

// DeregistrationProtection is the deregistration_protection {} block.
type DeregistrationProtection struct {
	// Enabled turns deregistration protection on. Default: false.
	Enabled bool `hcl:"enabled"`
	// WithCooldown keeps the protection for 24 hours after it is turned
	// off. Default: false.
	WithCooldown bool `hcl:"with_cooldown"`
}

// Prepare fills defaults and checks the AMI configuration. buildRegion is
// the region of the access configuration.
func (c *AMIConfig) Prepare(ctx *check.Context, buildRegion string) {
	if c.AMIName != "" {
		ctx.Check(check.Path("ami_name"), "Invalid ami_name", check.TemplatedAMIName(c.AMIName))
	}
	ctx.Placeholders(check.Path("ami_description"), c.AMIDescription)
	c.Tags = MergeTags(ctx, "tags", c.Tags, c.Tag)
	c.SnapshotTags = MergeTags(ctx, "snapshot_tags", c.SnapshotTags, c.SnapshotTag)
	ctx.Enum(check.Path("ami_virtualization_type"), c.AMIVirtType, "hvm", "paravirtual")
	ctx.Enum(check.Path("imds_support"), c.AMIIMDSSupport, "v2.0")
	if c.DeprecationTime != "" {
		ctx.Check(check.Path("deprecate_at"), "Invalid deprecate_at", check.RFC3339(c.DeprecationTime))
	}
	if m := c.SnapshotCopyDurationMinutes; m != 0 && (m < 15 || m%15 != 0) {
		ctx.Errorf(check.Path("snapshot_copy_duration_minutes"), "Invalid value for snapshot_copy_duration_minutes",
			"snapshot_copy_duration_minutes must be a multiple of 15 and at least 15, got %d", m)
	}
	accounts(ctx, "ami_users", c.AMIUsers)
	accounts(ctx, "snapshot_users", c.SnapshotUsers)
	for _, g := range append(slices.Clone(c.AMIGroups), c.SnapshotGroups...) {
		if g != "all" {
			ctx.Errorf(check.Path(groupAttr(c.AMIGroups, g)), "Invalid group", "%q is not a launch permission group; the only group is \"all\".", g)
		}
	}
	c.prepareRegions(ctx, buildRegion)
	c.prepareEncryption(ctx, buildRegion)
}

func groupAttr(amiGroups []string, g string) string {
	if slices.Contains(amiGroups, g) {
		return "ami_groups"
	}
	return "snapshot_groups"
}

func accounts(ctx *check.Context, attr string, ids []string) {
	for _, id := range ids {
		if !accountIDRE.MatchString(id) {
			ctx.Errorf(check.Path(attr), "Invalid account ID in "+attr, "%q is not an AWS account ID (12 digits).", id)
		}
	}
}

// prepareRegions removes duplicates from ami_regions and checks each name.
func (c *AMIConfig) prepareRegions(ctx *check.Context, buildRegion string) {
	var regions []string
	for _, r := range c.AMIRegions {
		if slices.Contains(regions, r) {
			continue
		}
		regions = append(regions, r)
		if !c.AMISkipRegionValidation {
			ctx.Check(check.Path("ami_regions"), "Invalid region in ami_regions", check.Region(r))
		}
	}
	c.AMIRegions = regions
}

// prepareEncryption checks kms_key_id and region_kms_key_ids against
// encrypt_boot and ami_regions.
func (c *AMIConfig) prepareEncryption(ctx *check.Context, buildRegion string) {
	encrypt := c.AMIEncryptBootVolume
	if c.AMIKmsKeyID != "" && (encrypt == nil || !*encrypt) && !ctx.IsUnknown("encrypt_boot") {
		ctx.Errorf(check.Path("kms_key_id"), "kms_key_id needs encrypt_boot", "Set encrypt_boot = true to encrypt the boot volume with kms_key_id.")
	}
	if len(c.AMIRegionKMSKeyIDs) == 0 || ctx.IsUnknown("region_kms_key_ids") {
		return
	}
	path := check.Path("region_kms_key_ids")
	if encrypt != nil && !*encrypt {
		ctx.Errorf(path, "region_kms_key_ids needs encryption", "region_kms_key_ids cannot be used with encrypt_boot = false.")
	}
	for _, region := range slices.Sorted(maps.Keys(c.AMIRegionKMSKeyIDs)) {
		ctx.Check(path, "Invalid region in region_kms_key_ids", check.Region(region))
		if region != buildRegion && !slices.Contains(c.AMIRegions, region) {
			ctx.Errorf(path, "Region not in ami_regions", "Region %q is in region_kms_key_ids but not in ami_regions.", region)
		}
	}
	for _, region := range c.AMIRegions {
		if _, ok := c.AMIRegionKMSKeyIDs[region]; !ok {
			ctx.Errorf(path, "Missing KMS key for region", "Region %q is in ami_regions but has no key in region_kms_key_ids; give every copy region a key.", region)
		}
	}
}
