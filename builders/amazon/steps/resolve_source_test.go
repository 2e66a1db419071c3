package steps

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestCheckVirtualization(t *testing.T) {
	hvm := types.Image{VirtualizationType: types.VirtualizationTypeHvm}
	pv := types.Image{VirtualizationType: types.VirtualizationTypeParavirtual}
	tests := []struct {
		name  string
		img   types.Image
		want  string // ami_virtualization_type
		ena   *bool
		sriov bool
		err   string
	}{
		{"nothing asked", pv, "", nil, false, ""},
		{"hvm as declared", hvm, "hvm", nil, false, ""},
		{"paravirtual as declared", pv, "paravirtual", nil, false, ""},
		{"declared hvm, source paravirtual", pv, "hvm", nil, false, `ami_virtualization_type is "hvm" but the source image is "paravirtual"`},
		{"declared paravirtual, source hvm", hvm, "paravirtual", nil, false, `ami_virtualization_type is "paravirtual"`},
		{"ena on hvm", hvm, "", aws.Bool(true), false, ""},
		{"ena on paravirtual", pv, "", aws.Bool(true), false, "need an HVM source image"},
		{"ena off on paravirtual", pv, "", aws.Bool(false), false, ""},
		{"sriov on paravirtual", pv, "", nil, true, "need an HVM source image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkVirtualization(tt.img, tt.want, tt.ena, tt.sriov)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("checkVirtualization = %v, want %q", err, tt.err)
			}
		})
	}
}
