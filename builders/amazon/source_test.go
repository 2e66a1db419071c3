package amazon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
)

func valid() SourceConfig {
	var c SourceConfig
	c.Region = "us-east-1"
	c.AMIName = "web-{{timestamp}}"
	c.InstanceType = "t3.micro"
	c.SourceAMI = "ami-12345678"
	c.SSHUsername = "ubuntu"
	return c
}

func ptr(b bool) *bool { return &b }

func TestSourceConfigDefaults(t *testing.T) {
	c := valid()
	ctx := &check.Context{}
	c.Prepare(ctx)
	if ctx.HasErrors() {
		t.Fatal(ctx.Diags)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"max_retries", c.MaxRetries, 10},
		{"http_tokens", c.MetadataOptions.HTTPTokens, "required"},
		{"http_endpoint", c.MetadataOptions.HTTPEndpoint, "enabled"},
		{"hop limit", c.MetadataOptions.HTTPPutResponseHopLimit, 1},
		{"shutdown_behavior", c.InstanceInitiatedShutdownBehavior, "stop"},
		{"capacity_reservation_preference", c.CapacityReservationPreference, "none"},
		{"ssh_timeout", c.SSHTimeout, "5m"},
		{"temporary_key_pair_type", c.TemporaryKeyPairType, "ed25519"},
		{"timeouts.ssh", c.Timeouts.SSH, "5m"},
		{"timeouts.image_available", c.Timeouts.ImageAvailable, "60m"},
		{"timeouts.instance_running", c.Timeouts.InstanceRunning, "10m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
			}
		})
	}
}

func TestSourceConfigNormalizes(t *testing.T) {
	c := valid()
	c.AMIRegions = []string{"eu-west-1", "eu-west-1", "us-west-2"}
	c.SecurityGroupID = "sg-1"
	c.SecurityGroupIDs = []string{"sg-2"}
	c.Tag = []KeyValue{{Key: "a", Value: "block"}, {Key: "b", Value: "block"}}
	c.Tags = map[string]string{"a": "map"}
	c.Prepare(&check.Context{})
	if strings.Join(c.AMIRegions, ",") != "eu-west-1,us-west-2" {
		t.Errorf("ami_regions = %v", c.AMIRegions)
	}
	if strings.Join(c.SecurityGroupIDs, ",") != "sg-1,sg-2" {
		t.Errorf("security_group_ids = %v", c.SecurityGroupIDs)
	}
	if c.Tags["a"] != "map" || c.Tags["b"] != "block" {
		t.Errorf("tags = %v", c.Tags)
	}
}

func TestSourceConfigErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.txt")
	if err := os.WriteFile(big, make([]byte, check.MaxUserData+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.txt"), []byte("#!/bin/sh"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(*SourceConfig)
		unknown string
		want    string // summary substring; "" means valid
	}{
		{"valid", func(*SourceConfig) {}, "", ""},
		{"bad region", func(c *SourceConfig) { c.Region = "us-east" }, "", "Invalid region"},
		{"ami name chars", func(c *SourceConfig) { c.AMIName = "web:{{timestamp}}" }, "", "Invalid ami_name"},
		{"ami name placeholder", func(c *SourceConfig) { c.AMIName = "web-{{ .Nope }}" }, "", "Invalid ami_name"},
		{"ami name short", func(c *SourceConfig) { c.AMIName = "ab" }, "", "Invalid ami_name"},
		{"description placeholder", func(c *SourceConfig) { c.AMIDescription = "{{ nope }}" }, "", "Invalid template in ami_description"},
		{"tag placeholder", func(c *SourceConfig) { c.Tags = map[string]string{"a": "{{ .Nope }}"} }, "", "Invalid template in tags"},
		{"run tag placeholder", func(c *SourceConfig) { c.RunTag = []KeyValue{{Key: "a", Value: "{{"}} }, "", "Invalid template in run_tags"},
		{"bad ami_regions", func(c *SourceConfig) { c.AMIRegions = []string{"mars-1"} }, "", "Invalid region in ami_regions"},
		{"skip region validation", func(c *SourceConfig) { c.AMIRegions = []string{"mars-1"}; c.AMISkipRegionValidation = true }, "", ""},
		{"bad source ami", func(c *SourceConfig) { c.SourceAMI = "ami-xyz" }, "", "Invalid source_ami"},
		{"no source", func(c *SourceConfig) { c.SourceAMI = "" }, "", "Missing source AMI"},
		{"unknown source", func(c *SourceConfig) { c.SourceAMI = "" }, "source_ami", ""},
		{"both sources", func(c *SourceConfig) { c.SourceAMIFilter.Owners = []string{"self"} }, "", "Conflicting source AMI"},
		{"filter without owners", func(c *SourceConfig) {
			c.SourceAMI = ""
			c.SourceAMIFilter.Filters = map[string]string{"name": "x"}
		}, "", "Missing owners"},
		{"filter with owner-alias", func(c *SourceConfig) {
			c.SourceAMI = ""
			c.SourceAMIFilter.Filters = map[string]string{"owner-alias": "amazon"}
		}, "", ""},
		{"both user data", func(c *SourceConfig) { c.UserData = "x"; c.UserDataFile = "ok.txt" }, "", "Conflicting user data"},
		{"user data too big", func(c *SourceConfig) { c.UserData = strings.Repeat("x", check.MaxUserData+1) }, "", "User data too large"},
		{"user data file too big", func(c *SourceConfig) { c.UserDataFile = "big.txt" }, "", "User data too large"},
		{"user data file missing", func(c *SourceConfig) { c.UserDataFile = "nope.txt" }, "", "File not found"},
		{"user data file ok", func(c *SourceConfig) { c.UserDataFile = "ok.txt" }, "", ""},
		{"shutdown behavior", func(c *SourceConfig) { c.InstanceInitiatedShutdownBehavior = "halt" }, "", "shutdown_behavior"},
		{"deprecate_at", func(c *SourceConfig) { c.DeprecationTime = "tomorrow" }, "", "Invalid deprecate_at"},
		{"imds_support", func(c *SourceConfig) { c.AMIIMDSSupport = "v1" }, "", "imds_support"},
		{"http_tokens", func(c *SourceConfig) { c.MetadataOptions.HTTPTokens = "sometimes" }, "", "http_tokens"},
		{"hop limit", func(c *SourceConfig) { c.MetadataOptions.HTTPPutResponseHopLimit = 65 }, "", "http_put_response_hop_limit"},
		{"tenancy", func(c *SourceConfig) { c.Placement.Tenancy = "shared" }, "", "tenancy"},
		{"ssh_interface", func(c *SourceConfig) { c.SSHInterface = "ipv6" }, "", "ssh_interface"},
		{"session manager", func(c *SourceConfig) { c.SSHInterface = "session_manager" }, "", `ssh_interface = "session_manager" is not implemented yet`},
		{"pause_before_ssm", func(c *SourceConfig) { c.PauseBeforeSSM = "30s" }, "", "pause_before_ssm is not implemented yet"},
		{"session_manager_port", func(c *SourceConfig) { c.SessionManagerPort = 8022 }, "", "session_manager_port is not implemented yet"},
		{"windows_password_timeout", func(c *SourceConfig) { c.WindowsPasswordTimeout = "soon" }, "", "Invalid duration for windows_password_timeout"},
		{"windows user data tag case", func(c *SourceConfig) { c.UserData = "<PowerShell>\nwinrm quickconfig -q\n</PowerShell>" }, "", "Invalid Windows user data"},
		{"skip_profile_validation", func(c *SourceConfig) { c.SkipProfileValidation = true }, "", "skip_profile_validation is not implemented yet"},
		{"vpc_filter", func(c *SourceConfig) { c.VpcFilter.Filters = map[string]string{"tag:Name": "build"} }, "", ""},
		{"cidr", func(c *SourceConfig) { c.TemporarySGSourceCidrs = []string{"10.0.0.1"} }, "", "Invalid CIDR"},
		{"cidr and public ip", func(c *SourceConfig) {
			c.TemporarySGSourceCidrs = []string{"10.0.0.0/8"}
			c.TemporarySGSourcePublicIP = true
		}, "", "Conflicting temporary security group"},
		{"security_group_filter", func(c *SourceConfig) {
			c.SecurityGroupIDs = []string{"sg-1"}
			c.SecurityGroupFilter.Filters = map[string]string{"a": "b"}
		}, "", "Conflicting security groups"},
		{"security_group_filter alone", func(c *SourceConfig) { c.SecurityGroupFilter.Filters = map[string]string{"a": "b"} }, "", ""},
		{"spot price", func(c *SourceConfig) { c.SpotPrice = "auto" }, "", ""},
		{"spot types", func(c *SourceConfig) { c.SpotInstanceTypes = []string{"t3.small"} }, "", "Conflicting instance types"},
		{"spot strategy", func(c *SourceConfig) { c.SpotAllocationStrategy = "lowest-price" }, "", "Spot setting without spot_price"},
		{"spot tags", func(c *SourceConfig) { c.SpotTags = map[string]string{"a": "b"} }, "", "Spot setting without spot_price"},
		{"fleet tags", func(c *SourceConfig) { c.FleetTags = map[string]string{"a": "b"} }, "", "Spot setting without spot_price"},
		{"capacity open", func(c *SourceConfig) { c.CapacityReservationPreference = "open" }, "", ""},
		{"capacity preference", func(c *SourceConfig) { c.CapacityReservationPreference = "always" }, "", "Invalid value for capacity_reservation_preference"},
		{"capacity id", func(c *SourceConfig) { c.CapacityReservationID = "cr-1" }, "", ""},
		{"capacity id and group", func(c *SourceConfig) {
			c.CapacityReservationID = "cr-1"
			c.CapacityReservationGroupArn = "arn:g"
		}, "", "Conflicting capacity reservations"},
		{"capacity id and preference", func(c *SourceConfig) {
			c.CapacityReservationID = "cr-1"
			c.CapacityReservationPreference = "open"
		}, "", "Conflicting capacity reservation settings"},
		{"unlimited credits t3", func(c *SourceConfig) { c.EnableUnlimitedCredits = true }, "", ""},
		{"unlimited credits t4g", func(c *SourceConfig) { c.InstanceType = "t4g.small"; c.EnableUnlimitedCredits = true }, "", ""},
		{"unlimited credits m5", func(c *SourceConfig) { c.InstanceType = "m5.large"; c.EnableUnlimitedCredits = true }, "", "burstable"},
		{"unlimited credits unknown type", func(c *SourceConfig) { c.InstanceType = ""; c.EnableUnlimitedCredits = true }, "instance_type", ""},
		{"nitro enclave m5", func(c *SourceConfig) { c.InstanceType = "m5.xlarge"; c.EnableNitroEnclave = true }, "", ""},
		{"nitro enclave t3", func(c *SourceConfig) { c.EnableNitroEnclave = true }, "", "Nitro Enclaves need a non-burstable"},
		{"paravirtual with ena", func(c *SourceConfig) { c.AMIVirtType = "paravirtual"; c.AMIENASupport = ptr(true) }, "", "Enhanced networking needs hvm"},
		{"paravirtual with sriov", func(c *SourceConfig) { c.AMIVirtType = "paravirtual"; c.AMISriovNetSupport = true }, "", "Enhanced networking needs hvm"},
		{"hvm with ena", func(c *SourceConfig) { c.AMIVirtType = "hvm"; c.AMIENASupport = ptr(true) }, "", ""},
		{"winrm without user", func(c *SourceConfig) { c.Type = "winrm" }, "", "Missing required argument"},
		{"winrm", func(c *SourceConfig) { c.Type = "winrm"; c.WinRMUsername = "Administrator" }, "", ""},
		{"winrm with ed25519 key", func(c *SourceConfig) {
			c.Type, c.WinRMUsername, c.TemporaryKeyPairType = "winrm", "Administrator", "ed25519"
		}, "", "Windows passwords need an RSA key pair"},
		{"winrm with ed25519 key and password", func(c *SourceConfig) {
			c.Type, c.WinRMUsername, c.TemporaryKeyPairType, c.WinRMPassword = "winrm", "Administrator", "ed25519", "pw"
		}, "", ""},
		{"winrm port", func(c *SourceConfig) { c.Type, c.WinRMUsername, c.WinRMPort = "winrm", "Administrator", 70000 }, "", "Invalid value for winrm_port"},
		{"ssh_clear_authorized_keys", func(c *SourceConfig) { c.SSHClearAuthorizedKeys = true }, "", ""},
		{"vault", func(c *SourceConfig) { c.VaultAWSEngine.Name = "builder" }, "", "vault_aws_engine is not implemented yet"},
		{"mfa", func(c *SourceConfig) { c.MFACode = "123456" }, "", "mfa_code is not implemented yet"},
		{"insecure tls", func(c *SourceConfig) { c.InsecureSkipTLSVerify = true }, "", "insecure_skip_tls_verify is not implemented yet"},
		{"decode messages", func(c *SourceConfig) { c.DecodeAuthorizationMessages = true }, "", "decode_authorization_messages is not implemented yet"},
		{"kms without encrypt", func(c *SourceConfig) { c.AMIKmsKeyID = "k" }, "", "kms_key_id needs encrypt_boot"},
		{"kms with encrypt", func(c *SourceConfig) { c.AMIKmsKeyID = "k"; c.AMIEncryptBootVolume = ptr(true) }, "", ""},
		{"region kms not in regions", func(c *SourceConfig) { c.AMIRegionKMSKeyIDs = map[string]string{"eu-west-1": "k"} }, "", "Region not in ami_regions"},
		{"region kms missing region", func(c *SourceConfig) {
			c.AMIRegions = []string{"eu-west-1", "us-west-2"}
			c.AMIRegionKMSKeyIDs = map[string]string{"eu-west-1": "k"}
		}, "", "Missing KMS key"},
		{"region kms with encrypt false", func(c *SourceConfig) {
			c.AMIRegions = []string{"eu-west-1"}
			c.AMIRegionKMSKeyIDs = map[string]string{"eu-west-1": "k"}
			c.AMIEncryptBootVolume = ptr(false)
		}, "", "needs encryption"},
		{"snapshot copy duration", func(c *SourceConfig) { c.SnapshotCopyDurationMinutes = 20 }, "", "snapshot_copy_duration_minutes"},
		{"ami users", func(c *SourceConfig) { c.AMIUsers = []string{"123"} }, "", "Invalid account ID"},
		{"ami groups", func(c *SourceConfig) { c.AMIGroups = []string{"friends"} }, "", "Invalid group"},
		{"virtualization type", func(c *SourceConfig) { c.AMIVirtType = "pv" }, "", "ami_virtualization_type"},
		{"max retries", func(c *SourceConfig) { c.MaxRetries = -1 }, "", "max_retries"},
		{"half credentials", func(c *SourceConfig) { c.AccessKey = "AKIA" }, "", "Incomplete static credentials"},
		{"assume role duration", func(c *SourceConfig) { c.AssumeRole = AssumeRole{RoleARN: "arn", DurationSeconds: 60} }, "", "duration_seconds"},
		{"volume type", func(c *SourceConfig) {
			c.LaunchBlockDevices = []BlockDevice{{DeviceName: "/dev/sda1", VolumeType: "gp9"}}
		}, "", "volume_type"},
		{"device name", func(c *SourceConfig) { c.AMIBlockDevices = []BlockDevice{{VolumeSize: 8}} }, "", "Missing required argument"},
		{"iops on gp2", func(c *SourceConfig) {
			c.LaunchBlockDevices = []BlockDevice{{DeviceName: "d", VolumeType: "gp2", IOPS: 3000}}
		}, "", "iops"},
		{"throughput range", func(c *SourceConfig) {
			c.LaunchBlockDevices = []BlockDevice{{DeviceName: "d", VolumeType: "gp3", Throughput: 2000}}
		}, "", "throughput"},
		{"device kms", func(c *SourceConfig) { c.LaunchBlockDevices = []BlockDevice{{DeviceName: "d", KmsKeyID: "k"}} }, "", "needs encrypted"},
		{"virtual name", func(c *SourceConfig) { c.LaunchBlockDevices = []BlockDevice{{DeviceName: "d", VirtualName: "eph"}} }, "", "virtual_name"},
		{"timeouts", func(c *SourceConfig) { c.Timeouts.CopyAvailable = "2 hours" }, "", "Invalid duration for copy_available"},
		{"communicator", func(c *SourceConfig) { c.Type = "rdp" }, "", "communicator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { prepareEdited(t, dir, tt.edit, tt.unknown, tt.want) })
	}
}

// prepareEdited prepares valid() changed by edit in dir, with the
// attribute unknown ("" for none) unknown, and checks its diagnostics:
// none when want is "", else one whose summary contains want. It
// returns the context for further checks.
func prepareEdited(t *testing.T, dir string, edit func(*SourceConfig), unknown, want string) *check.Context {
	t.Helper()
	c := valid()
	edit(&c)
	ctx := &check.Context{BaseDir: dir, Unknown: map[string]bool{unknown: true}}
	c.Prepare(ctx)
	if want == "" {
		if ctx.HasErrors() {
			t.Fatalf("unexpected diagnostics: %v", ctx.Diags)
		}
		return ctx
	}
	if len(ctx.Diags) != 1 || !strings.Contains(ctx.Diags[0].Summary, want) {
		t.Fatalf("diagnostics = %v, want one containing %q", ctx.Diags, want)
	}
	return ctx
}
