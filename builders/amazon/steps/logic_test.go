package steps

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/interpolate"
	"github.com/imgbuild/imgbuild/internal/tags"
)

func testConfig() *Config {
	cfg := &Config{}
	cfg.Region = "us-east-1"
	cfg.RunTags = map[string]string{"Team": "images", "Src": "{{ .SourceAMIName }}"}
	cfg.Tags = map[string]string{"Region": "{{ .BuildRegion }}", "Team": "platform"}
	cfg.SnapshotTags = map[string]string{"Kind": "snapshot"}
	cfg.RunVolumeTags = map[string]string{"Vol": "{{ .BuildRegion }}"}
	return cfg
}

func testTagger(cfg *Config) tagger {
	return tagger{cfg: cfg, run: map[string]string{tags.RunID: "run-1", tags.Build: "b"},
		data: interpolate.Data{SourceAMIName: "al2023"}}
}

func TestTagSets(t *testing.T) {
	cfg := testConfig()
	cfg.Tags[tags.RunID] = "forged" // run tags cannot be overridden
	tg := testTagger(cfg)
	tmp, err := tg.temporary()
	if err != nil {
		t.Fatal(err)
	}
	wantTemp := map[string]string{"Team": "images", "Src": "al2023", tags.RunID: "run-1", tags.Build: "b", tags.Temporary: "true"}
	if !equal(tmp, wantTemp) {
		t.Errorf("temporary tags %v, want %v", tmp, wantTemp)
	}
	vol, _ := tg.volume()
	if vol["Vol"] != "us-east-1" || vol[tags.Temporary] != "true" || vol["Team"] != "" {
		t.Errorf("volume tags %v", vol)
	}
	img, snap, err := tg.image("eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	wantImg := map[string]string{"Team": "platform", "Src": "al2023", "Region": "eu-west-1", tags.RunID: "run-1", tags.Build: "b"}
	if !equal(img, wantImg) {
		t.Errorf("image tags %v, want %v", img, wantImg)
	}
	wantImg["Kind"] = "snapshot"
	if !equal(snap, wantImg) {
		t.Errorf("snapshot tags %v, want %v", snap, wantImg)
	}
	cfg.SkipAMIRunTags = true
	img, _, _ = tg.image("us-east-1")
	if img["Src"] != "" || img["Team"] != "platform" || img[tags.RunID] != "run-1" {
		t.Errorf("image tags with skip_ami_run_tags %v", img)
	}
	cfg.Tags["Bad"] = "{{ .Nope }}"
	if _, _, err := tg.image("us-east-1"); err == nil || !strings.Contains(err.Error(), "tags for us-east-1") {
		t.Errorf("bad placeholder: %v", err)
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestNames(t *testing.T) {
	if got := temporaryName("5D3A-9b7c-11ee-8c90", "base.amazon-ebs.al2023"); !strings.HasPrefix(got, "imgbuild_5d3a9b7c_") || len(got) != len("imgbuild_5d3a9b7c_")+8 {
		t.Errorf("temporaryName = %q", got)
	}
	if temporaryName("run", "a") == temporaryName("run", "b") {
		t.Error("two builds of a run share a temporary name")
	}
	if got := intermediateName("web", "abcdef123456"); got != "web-imgbuild-abcdef12" {
		t.Errorf("intermediateName = %q", got)
	}
	if got := intermediateName(strings.Repeat("n", 128), "abcdef123456"); len(got) != 128 || !strings.HasSuffix(got, "-imgbuild-abcdef12") {
		t.Errorf("long intermediateName = %q (%d)", got, len(got))
	}
	a := clientToken("run", "build", "eu-west-1", "copy:web")
	if a != clientToken("run", "build", "eu-west-1", "copy:web") || len(a) > 64 {
		t.Errorf("clientToken not stable or too long: %q", a)
	}
	for _, other := range []string{
		clientToken("run2", "build", "eu-west-1", "copy:web"), clientToken("run", "build2", "eu-west-1", "copy:web"),
		clientToken("run", "build", "us-west-2", "copy:web"), clientToken("run", "build", "eu-west-1", "instance"),
	} {
		if other == a {
			t.Errorf("clientToken collision %q", a)
		}
	}
}

func TestSourceCIDRs(t *testing.T) {
	tests := []struct {
		name     string
		cidrs    []string
		publicIP bool
		endpoint string
		want     string // joined CIDRs, or an error substring
	}{
		{"configured", []string{"10.0.0.0/8", "192.0.2.1/32"}, false, "", "10.0.0.0/8,192.0.2.1/32"},
		{"local cloud", nil, false, "http://127.0.0.1:4566", "127.0.0.0/8"},
		{"localhost", nil, false, "http://localhost:4566", "127.0.0.0/8"},
		{"ipv6 loopback", nil, false, "http://[::1]:4566", "127.0.0.0/8"},
		{"real AWS", nil, false, "", "needs temporary_security_group_source_cidrs"},
		{"remote endpoint", nil, false, "https://ec2.example.com", "never opens the communicator port to 0.0.0.0/0"},
		{"public ip", nil, true, "http://127.0.0.1:1", "198.51.100.7/32"},
	}
	checkip := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "198.51.100.7")
	}))
	defer checkip.Close()
	t.Setenv(PublicIPURLEnv, checkip.URL)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{}
			cfg.TemporarySGSourceCidrs, cfg.TemporarySGSourcePublicIP = tt.cidrs, tt.publicIP
			got, err := sourceCIDRs(t.Context(), cfg, tt.endpoint)
			s := strings.Join(got, ",")
			if err != nil {
				s = err.Error()
			}
			if !strings.Contains(s, tt.want) {
				t.Errorf("sourceCIDRs = %q, want %q", s, tt.want)
			}
		})
	}
}

func TestNeedsIntermediate(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name                 string
		encrypt              *bool
		skipSave, force, old bool
		want                 bool
	}{
		{"plain", nil, false, false, false, false},
		{"force without old image", nil, false, true, false, false},
		{"force replaces old image", nil, false, true, true, true},
		{"encrypt_boot", &yes, false, false, false, true},
		{"encrypt_boot false", &no, false, false, false, false},
		{"skip_save_build_region", nil, true, false, false, true},
	}
	for _, tt := range tests {
		cfg := &Config{}
		cfg.AMIEncryptBootVolume, cfg.AMISkipBuildRegion, cfg.AMIForceDeregister = tt.encrypt, tt.skipSave, tt.force
		if got := needsIntermediate(cfg, tt.old); got != tt.want {
			t.Errorf("%s: needsIntermediate = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCopyEncryption(t *testing.T) {
	yes := true
	cfg := &Config{}
	cfg.Region = "us-east-1"
	if enc, key := copyEncryption(cfg, "eu-west-1"); enc != nil || key != nil {
		t.Errorf("unencrypted copy: %v %v", enc, key)
	}
	cfg.AMIEncryptBootVolume, cfg.AMIKmsKeyID = &yes, "build-key"
	cfg.AMIRegionKMSKeyIDs = map[string]string{"eu-west-1": "eu-key"}
	for region, want := range map[string]string{"us-east-1": "build-key", "eu-west-1": "eu-key", "us-west-2": ""} {
		enc, key := copyEncryption(cfg, region)
		if !aws.ToBool(enc) || aws.ToString(key) != want {
			t.Errorf("%s: encrypted %v key %q, want key %q", region, aws.ToBool(enc), aws.ToString(key), want)
		}
	}
}

func TestSSHHost(t *testing.T) {
	inst := instanceInfo{ID: "i-1", PublicIP: "203.0.113.1", PrivateIP: "10.0.0.1", PrivateDNS: "ip-10-0-0-1"}
	tests := []struct{ host, iface, want string }{
		{"", "", "203.0.113.1"},
		{"", "private_ip", "10.0.0.1"},
		{"", "private_dns", "ip-10-0-0-1"},
		{"bastion.example", "", "bastion.example"},
	}
	for _, tt := range tests {
		cfg := &Config{}
		cfg.SSHHost, cfg.SSHInterface = tt.host, tt.iface
		if got, err := sshHost(cfg, inst); err != nil || got != tt.want {
			t.Errorf("sshHost(%q, %q) = %q, %v; want %q", tt.host, tt.iface, got, err, tt.want)
		}
	}
	cfg := &Config{}
	if got, _ := sshHost(cfg, instanceInfo{PrivateIP: "10.0.0.2"}); got != "10.0.0.2" {
		t.Errorf("no public IP: %q, want the private IP", got)
	}
	cfg.SSHInterface = "public_dns"
	if _, err := sshHost(cfg, inst); err == nil || !strings.Contains(err.Error(), `no address for ssh_interface "public_dns"`) {
		t.Errorf("missing DNS name: %v", err)
	}
}

func TestLaunchMappingsNoEphemeral(t *testing.T) {
	source := []types.BlockDeviceMapping{
		{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{SnapshotId: aws.String("snap-1")}},
		{DeviceName: aws.String("/dev/sdb"), VirtualName: aws.String("ephemeral0")},
		{DeviceName: aws.String("/dev/sdc"), VirtualName: aws.String("ephemeral1")},
	}
	devices := []amazon.BlockDevice{{DeviceName: "/dev/xvda", VolumeSize: 20, VolumeType: "gp3"}, {DeviceName: "/dev/sdc", VirtualName: "ephemeral1"}}
	got := launchMappings(devices, source, true)
	if len(got) != 3 || aws.ToInt32(got[0].Ebs.VolumeSize) != 20 || aws.ToString(got[1].VirtualName) != "ephemeral1" ||
		aws.ToString(got[2].DeviceName) != "/dev/sdb" || got[2].NoDevice == nil {
		t.Errorf("launchMappings = %+v", got)
	}
	if got := launchMappings(devices, source, false); len(got) != 2 {
		t.Errorf("without no_ephemeral: %+v", got)
	}
}

func TestUnsupported(t *testing.T) {
	cfg := &Config{}
	if err := unsupported(cfg); err != nil {
		t.Fatal(err)
	}
	cfg.SpotPrice, cfg.SSHInterface = "auto", "session_manager"
	if err := unsupported(cfg); err == nil || !strings.Contains(err.Error(), `: ssh_interface = "session_manager"`) {
		t.Errorf("unsupported = %v", err)
	}
}

func TestVolumesSurvive(t *testing.T) {
	ebs := func(dev string, del *bool) types.BlockDeviceMapping {
		return types.BlockDeviceMapping{DeviceName: aws.String(dev), Ebs: &types.EbsBlockDevice{DeleteOnTermination: del}}
	}
	root := ebs("/dev/xvda", aws.Bool(true))
	cases := []struct {
		name           string
		launch, source []types.BlockDeviceMapping
		want           bool
	}{
		{"image deletes its root", nil, []types.BlockDeviceMapping{root}, false},
		{"image keeps a volume", nil, []types.BlockDeviceMapping{root, ebs("/dev/sdb", aws.Bool(false))}, true},
		{"image does not say", nil, []types.BlockDeviceMapping{ebs("/dev/xvda", nil)}, true},
		{"launch keeps the root", []types.BlockDeviceMapping{ebs("/dev/xvda", aws.Bool(false))}, []types.BlockDeviceMapping{root}, true},
		{"launch deletes a kept volume", []types.BlockDeviceMapping{ebs("/dev/sdb", aws.Bool(true))}, []types.BlockDeviceMapping{root, ebs("/dev/sdb", aws.Bool(false))}, false},
		{"launch inherits the image's choice", []types.BlockDeviceMapping{ebs("/dev/sdb", nil)}, []types.BlockDeviceMapping{root, ebs("/dev/sdb", aws.Bool(false))}, true},
		{"no device drops a kept volume", []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdb"), NoDevice: aws.String("")}}, []types.BlockDeviceMapping{root, ebs("/dev/sdb", aws.Bool(false))}, false},
		{"instance store is no volume", nil, []types.BlockDeviceMapping{root, {DeviceName: aws.String("/dev/sdc"), VirtualName: aws.String("ephemeral0")}}, false},
	}
	for _, c := range cases {
		if got := volumesSurvive(c.launch, c.source); got != c.want {
			t.Errorf("%s: volumesSurvive = %v, want %v", c.name, got, c.want)
		}
	}
}
