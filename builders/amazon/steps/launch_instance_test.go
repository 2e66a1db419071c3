package steps

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/check"
)

// TestLaunchInput builds the RunInstances request of a prepared
// configuration and checks the options that map from the template:
// capacity reservations, unlimited credits and Nitro Enclaves.
func TestLaunchInput(t *testing.T) {
	none := &types.CapacityReservationSpecification{CapacityReservationPreference: types.CapacityReservationPreferenceNone}
	tests := []struct {
		name     string
		edit     func(*amazon.SourceConfig)
		capacity *types.CapacityReservationSpecification
		credits  *types.CreditSpecificationRequest
		enclave  *types.EnclaveOptionsRequest
	}{
		{"defaults: no reservation, as Packer", func(*amazon.SourceConfig) {}, none, nil, nil},
		{"open reservations", func(c *amazon.SourceConfig) { c.CapacityReservationPreference = "open" },
			&types.CapacityReservationSpecification{CapacityReservationPreference: types.CapacityReservationPreferenceOpen}, nil, nil},
		{"reservation by id", func(c *amazon.SourceConfig) { c.CapacityReservationID = "cr-0123" },
			&types.CapacityReservationSpecification{CapacityReservationTarget: &types.CapacityReservationTarget{CapacityReservationId: aws.String("cr-0123")}}, nil, nil},
		{"reservation group", func(c *amazon.SourceConfig) {
			c.CapacityReservationGroupArn = "arn:aws:resource-groups:us-east-1:123456789012:group/g"
		},
			&types.CapacityReservationSpecification{CapacityReservationTarget: &types.CapacityReservationTarget{
				CapacityReservationResourceGroupArn: aws.String("arn:aws:resource-groups:us-east-1:123456789012:group/g")}}, nil, nil},
		{"unlimited credits", func(c *amazon.SourceConfig) { c.EnableUnlimitedCredits = true },
			none, &types.CreditSpecificationRequest{CpuCredits: aws.String("unlimited")}, nil},
		{"nitro enclave", func(c *amazon.SourceConfig) { c.InstanceType = "m5.xlarge"; c.EnableNitroEnclave = true },
			none, nil, &types.EnclaveOptionsRequest{Enabled: aws.Bool(true)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := launchInputOf(t, tt.edit)
			if !reflect.DeepEqual(in.CapacityReservationSpecification, tt.capacity) {
				t.Errorf("CapacityReservationSpecification = %+v, want %+v", in.CapacityReservationSpecification, tt.capacity)
			}
			if !reflect.DeepEqual(in.CreditSpecification, tt.credits) {
				t.Errorf("CreditSpecification = %+v, want %+v", in.CreditSpecification, tt.credits)
			}
			if !reflect.DeepEqual(in.EnclaveOptions, tt.enclave) {
				t.Errorf("EnclaveOptions = %+v, want %+v", in.EnclaveOptions, tt.enclave)
			}
			if aws.ToString(in.ImageId) != "ami-0123456789abcdef0" || aws.ToString(in.ClientToken) != "token" {
				t.Errorf("image %s, client token %s", aws.ToString(in.ImageId), aws.ToString(in.ClientToken))
			}
		})
	}
}

// launchInputOf prepares a minimal valid configuration changed by edit, as
// validate does, and returns the RunInstances request of its launch.
func launchInputOf(t *testing.T, edit func(*amazon.SourceConfig)) *ec2.RunInstancesInput {
	t.Helper()
	cfg := &amazon.SourceConfig{}
	cfg.Region, cfg.AMIName, cfg.InstanceType = "us-east-1", "test-{{timestamp}}", "t3.micro"
	cfg.SourceAMI, cfg.SSHUsername = "ami-0123456789abcdef0", "ec2-user"
	edit(cfg)
	ctx := &check.Context{}
	cfg.Prepare(ctx)
	if ctx.HasErrors() {
		t.Fatalf("Prepare: %v", ctx.Diags)
	}
	b := newBuild(&builder.Env{RunID: "run-1", BuildName: "b"}, &Config{SourceConfig: *cfg, BuilderType: "amazon-ebs"}, nil)
	b.st.source.ID = cfg.SourceAMI
	in, _, err := (&launchInstance{b: b, token: "token"}).input(nil)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestLaunchSubnetWithoutNetworkSettings checks that a launch with no
// subnet setting and no temporary security group asks EC2 nothing (the
// build has no session here: any call would panic): EC2 picks the default
// VPC's subnet.
func TestLaunchSubnetWithoutNetworkSettings(t *testing.T) {
	cfg := &amazon.SourceConfig{}
	cfg.Region = "us-east-1"
	b := newBuild(&builder.Env{RunID: "run-1", BuildName: "b"}, &Config{SourceConfig: *cfg, BuilderType: "amazon-ebs"}, nil)
	subnet, err := b.subnet(t.Context())
	if err != nil || subnet != "" {
		t.Errorf("subnet %q, %v; want \"\" and no call", subnet, err)
	}
}
