package steps

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNetworkFilters checks vpc_filter (exactly one VPC must match) and
// security_group_filter (every match, within that VPC, at least one).
func TestNetworkFilters(t *testing.T) {
	cases := []struct {
		name          string
		vpcs, groups  []string
		wantVpc       string
		wantGroups    string
		wantErr       string
		wantGroupCall string // a part of the DescribeSecurityGroups request
	}{
		{"one vpc, two groups", []string{"vpc-1"}, []string{"sg-1", "sg-2"}, "vpc-1", "sg-1,sg-2", "", "Filter.2.Name=vpc-id&Filter.2.Value.1=vpc-1"},
		{"no vpc", nil, []string{"sg-1"}, "", "", "vpc_filter matches 0 VPCs", ""},
		{"two vpcs", []string{"vpc-1", "vpc-2"}, []string{"sg-1"}, "", "", "vpc_filter matches 2 VPCs", ""},
		{"no group", []string{"vpc-1"}, nil, "vpc-1", "", "security_group_filter matches no security group", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeEC2()
			f.vpcs, f.groups = c.vpcs, c.groups
			cfg := &Config{}
			cfg.Region = "us-east-1"
			cfg.VpcFilter.Filters = map[string]string{"tag:Name": "build"}
			cfg.SecurityGroupFilter.Filters = map[string]string{"tag:Class": "build"}
			b := fakeBuild(t, f, cfg)
			groups, err := b.securityGroups(t.Context())
			got := strings.Join(groups, ",")
			if err != nil {
				got = err.Error()
			}
			want := c.wantGroups
			if c.wantErr != "" {
				want = c.wantErr
			}
			if !strings.Contains(got, want) || (c.wantErr == "" && err != nil) {
				t.Fatalf("securityGroups = %q, want %q", got, want)
			}
			if _, vpc, _ := b.network(t.Context()); vpc != c.wantVpc {
				t.Errorf("vpc = %q, want %q", vpc, c.wantVpc)
			}
			if calls := f.callsTo("DescribeVpcs"); len(calls) != 1 || !strings.Contains(calls[0], "Filter.1.Name=tag%3AName") {
				t.Errorf("DescribeVpcs calls = %q", calls)
			}
			if c.wantGroupCall != "" {
				if calls := f.callsTo("DescribeSecurityGroups"); len(calls) != 1 || !strings.Contains(calls[0], c.wantGroupCall) {
					t.Errorf("DescribeSecurityGroups calls = %q", calls)
				}
			}
		})
	}
}

// TestClearAuthorizedKeysCommand checks the command removes only the
// temporary key's lines, from the user's and root's files.
func TestClearAuthorizedKeysCommand(t *testing.T) {
	cmd := clearAuthorizedKeysCommand("AAAAC3Nza+/x=")
	for _, want := range []string{`sed -i '\|AAAAC3Nza+/x=|d' "$f"`, `for f in ~/.ssh/authorized_keys`,
		`$S sed -i '\|AAAAC3Nza+/x=|d' /root/.ssh/authorized_keys`, `S="sudo -n"`} {
		if !strings.Contains(cmd, want) {
			t.Errorf("command %q lacks %q", cmd, want)
		}
	}
}

// TestClearAuthorizedKeysRuns runs the command in a shell on a fake home
// and checks only the temporary key's line is gone.
func TestClearAuthorizedKeysRuns(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("as root the command would edit /root/.ssh/authorized_keys")
	}
	home := t.TempDir()
	keys := filepath.Join(home, ".ssh", "authorized_keys")
	if err := os.MkdirAll(filepath.Dir(keys), 0o700); err != nil {
		t.Fatal(err)
	}
	const mine, other = "ssh-ed25519 AAAAC3Nza+/tmp= imgbuild_x\n", "ssh-rsa AAAAB3other= me@host\n"
	if err := os.WriteFile(keys, []byte(mine+other), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", clearAuthorizedKeysCommand("AAAAC3Nza+/tmp="))
	cmd.Env = append(os.Environ(), "HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got, _ := os.ReadFile(keys); string(got) != other {
		t.Errorf("authorized_keys = %q, want %q", got, other)
	}
}
