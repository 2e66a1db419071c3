package plan

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/registry"
	"github.com/imgbuild/imgbuild/internal/template"
	"github.com/imgbuild/imgbuild/postprocessors/ssmparameter"
	"github.com/imgbuild/imgbuild/provisioners/script"
	"github.com/imgbuild/imgbuild/provisioners/shell"
)

// TestPayloadCheckedByPostProcessors checks that a boot payload an
// amazon-ssm-parameter post-processor would refuse once the image is made
// (over 8 KB) fails the plan, which validate makes, naming the
// post-processor's file and line; a payload that fits, or no
// boot_payload_name, passes.
func TestPayloadCheckedByPostProcessors(t *testing.T) {
	deferred := func(size int) registry.Config {
		c := &shell.Config{Source: script.Source{Inline: []string{"echo " + strings.Repeat("x", size)}}}
		c.Prepare(&check.Context{Fields: check.BodyFields(nil), Unknown: map[string]bool{}})
		return c
	}
	tests := []struct {
		name        string
		size        int
		payloadName string
		wantErr     string
	}{
		{"fits", 1000, "/images/app/boot", ""},
		{"too large", 9000, "/images/app/boot", `post-processor "amazon-ssm-parameter" (main.pkr.hcl:20): boot_payload_name "/images/app/boot": the boot payload is`},
		{"not published", 9000, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := testTemplate(fakeBuilder{})
			b := tpl.Builds[0]
			b.Strategy = template.StrategyHybrid
			b.Provisioners = []*template.Provisioner{{Type: "shell", Layer: template.LayerApp,
				Configs: map[string]registry.Config{"fake.a": deferred(tt.size)}, DeclRange: hcl.Range{Filename: "main.pkr.hcl", Start: hcl.Pos{Line: 3}}}}
			b.PostProcessors = [][]*template.PostProcessor{{{Type: "amazon-ssm-parameter",
				Config:    &ssmparameter.Config{Name: "/images/app/latest", BootPayloadName: tt.payloadName},
				DeclRange: hcl.Range{Filename: "main.pkr.hcl", Start: hcl.Pos{Line: 20}}}}}
			_, err := New(tpl, Selection{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("plan: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q...", err, tt.wantErr)
			}
		})
	}
}
