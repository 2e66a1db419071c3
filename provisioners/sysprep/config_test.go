package sysprep

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/provision"
)

func ptr[T any](v T) *T { return &v }

func TestPrepare(t *testing.T) {
	tests := []struct {
		name     string
		c        Config
		severity hcl.DiagnosticSeverity // 0: no diagnostic
		want     string                 // in the summary
		attr     string                 // in the detail
	}{
		{"defaults", Config{}, 0, "", ""},
		{"every option", Config{Agent: "ec2launch-v1", AdminPassword: "keep", ComputerName: true,
			RunUserData: ptr(false), CleanTemp: ptr(false), ZeroFreeSpace: true}, 0, "", ""},
		{"agent case", Config{Agent: "EC2Launch-V2"}, 0, "", ""},
		{"agent", Config{Agent: "ec2launch"}, hcl.DiagError, "Invalid value for agent", `"ec2launch-v2"`},
		{"admin_password", Config{AdminPassword: "specify"}, hcl.DiagError, "Invalid value for admin_password", `"keep"`},
		{"windows_version", Config{WindowsVersion: "2019"}, 0, "", ""},
		{"windows_version R2", Config{WindowsVersion: "2012R2"}, 0, "", ""},
		{"bad windows_version", Config{WindowsVersion: "Server 2019"}, hcl.DiagError, "Invalid value for windows_version", `"2012 R2"`},
		{"windows_version 2020", Config{WindowsVersion: "2020"}, hcl.DiagError, "Invalid value for windows_version", "2020"},
		{"windows_version with agent", Config{Agent: "ec2config", WindowsVersion: "2012"}, hcl.DiagWarning,
			"windows_version has no effect", `agent = "ec2config"`},
		{"user data off with v2", Config{Agent: "ec2launch-v2", RunUserData: ptr(false)}, hcl.DiagWarning,
			"run_user_data = false has no effect with EC2Launch v2", "first boot"},
		{"user data off with v1", Config{Agent: "ec2launch-v1", RunUserData: ptr(false)}, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			ctx := &check.Context{}
			c.Prepare(ctx)
			if tt.severity == 0 {
				if len(ctx.Diags) != 0 {
					t.Fatalf("unexpected diagnostics: %v", ctx.Diags)
				}
				return
			}
			if len(ctx.Diags) != 1 {
				t.Fatalf("diagnostics = %v, want one", ctx.Diags)
			}
			d := ctx.Diags[0]
			if d.Severity != tt.severity || !strings.Contains(d.Summary, tt.want) || !strings.Contains(d.Detail, tt.attr) {
				t.Errorf("diagnostic = %v %q: %q; want severity %v, %q, detail with %q", d.Severity, d.Summary, d.Detail, tt.severity, tt.want, tt.attr)
			}
		})
	}
}

func TestPrepareDefaults(t *testing.T) {
	var c Config
	c.Prepare(&check.Context{})
	if c.AdminPassword != PasswordRandom || c.RunUserData == nil || !*c.RunUserData ||
		c.CleanTemp == nil || !*c.CleanTemp || c.ComputerName || c.ZeroFreeSpace || c.Agent != "" {
		t.Errorf("defaults: %+v", c)
	}
	// Set values stay, normalized.
	c = Config{Agent: "EC2Config", AdminPassword: "KEEP", WindowsVersion: "2012r2", RunUserData: ptr(false), CleanTemp: ptr(false)}
	c.Prepare(&check.Context{})
	if c.Agent != "ec2config" || c.AdminPassword != "keep" || c.WindowsVersion != "2012 R2" || *c.RunUserData || *c.CleanTemp {
		t.Errorf("prepared: %+v", c)
	}
}

func TestStopsInstance(t *testing.T) {
	for _, cfg := range []any{Config{}, &Config{}} {
		s, ok := cfg.(interface{ StopsInstance() bool })
		if !ok || !s.StopsInstance() {
			t.Errorf("%T does not report that it stops the instance", cfg)
		}
	}
	var _ provision.Provisioner = &Config{}
}

// TestKeepProblem checks what the template loader is told about
// admin_password = "keep" for a connection, before the build runs.
func TestKeepProblem(t *testing.T) {
	tests := []struct {
		name, agent, version, password, user string
		hasPassword                          bool
		want                                 string // substring of the problem; "" means none
		sure                                 bool
	}{
		{"random", "", "", "random", "ec2-user", false, "", true},
		{"administrator over winrm", "", "", "keep", "Administrator", true, "", false},
		{"other user, agent from the image", "", "", "keep", "builder", true, `connects as "builder"`, false},
		{"other user, ec2launch v2", "ec2launch-v2", "", "keep", "builder", true, `connects as "builder"`, true},
		{"other user, windows 2019", "", "2019", "keep", "builder", true, `connects as "builder"`, true},
		{"other user, ec2config", "ec2config", "", "keep", "builder", true, "", true},
		{"other user, windows 2012 R2 (an EC2LaunchV2 image still decides)", "", "2012R2", "keep", "builder", true, `connects as "builder"`, false},
		{"no password over ssh", "ec2launch-v1", "", "keep", "Administrator", false, "has none", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Agent: tt.agent, WindowsVersion: tt.version, AdminPassword: tt.password}
			ctx := &check.Context{}
			c.Prepare(ctx)
			if ctx.HasErrors() {
				t.Fatal(ctx.Diags)
			}
			problem, sure := c.KeepProblem(tt.user, tt.hasPassword)
			if tt.want == "" {
				if problem != "" {
					t.Errorf("problem = %q, want none", problem)
				}
				return
			}
			if !strings.Contains(problem, tt.want) || sure != tt.sure {
				t.Errorf("problem = %q, sure = %v; want %q, sure = %v", problem, sure, tt.want, tt.sure)
			}
		})
	}
}
