package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// earlyCleanupTemplate has two builds: "fails" stops at its provisioner
// at once, "slow" provisions for a long time.
const earlyCleanupTemplate = `
source "amazon-ebs" "al" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "early-${source.name}-{{timestamp}}"
  source_ami_filter {
    filters     = { name = "amzn2-ami-hvm-*-x86_64-gp2" }
    owners      = ["amazon"]
    most_recent = true
  }
}

build {
  name = "early"
  source "amazon-ebs.al" {
    name = "fails"
  }
  source "amazon-ebs.al" {
    name = "slow"
  }
  provisioner "shell" {
    only        = ["amazon-ebs.fails"]
    inline      = ["echo failing now; exit 3"]
    remote_path = "/tmp/early-fails.sh"
  }
  provisioner "shell" {
    only        = ["amazon-ebs.slow"]
    inline      = ["sleep 25; echo slow done"]
    remote_path = "/tmp/early-slow.sh"
  }
}
`

// TestFailedBuildCleansUpWhileOthersRun shows that a build that failed is
// cleaned up at once: its instance is terminated and its key pair and
// security group deleted while the other build of the run is still
// provisioning, not when the run ends.
func TestFailedBuildCleansUpWhileOthersRun(t *testing.T) {
	e := newE2E(t, "instant")
	e.write(map[string]string{"main.pkr.hcl": earlyCleanupTemplate})
	type result struct {
		code     int
		out, err string
		at       time.Time
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		code, out, errOut := e.imgbuild("build", e.dir)
		done <- result{code, out, errOut, time.Now()}
	}()

	var cleanedAt time.Time
	for cleanedAt.IsZero() {
		select {
		case r := <-done:
			t.Fatalf("run ended (exit %d) before the failed build was seen cleaned up:\n%s\n%s", r.code, r.out, r.err)
		case <-time.After(200 * time.Millisecond):
		}
		if e.buildCleanedUp("early.amazon-ebs.fails") {
			cleanedAt = time.Now()
		}
	}
	r := <-done
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{"    early.amazon-ebs.slow: slow done", "--> early.amazon-ebs.slow: succeeded", "--> early.amazon-ebs.fails: failed"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	// The slow build provisions for 25 s after the failed one stopped: the
	// failed build's resources must have gone long before the run ended.
	// (Each provisioner has its own remote_path: instances of the local
	// cloud share the host's /tmp until guests get their own file system.)
	if gap := r.at.Sub(cleanedAt); gap < 15*time.Second {
		t.Errorf("failed build cleaned up %s after the start, only %s before the run ended: cleanup waited for the other build",
			cleanedAt.Sub(start).Round(time.Millisecond), gap.Round(time.Millisecond))
	}
}

// buildCleanedUp reports whether the build launched an instance that is
// now terminated and no longer has a key pair or security group.
func (e *e2e) buildCleanedUp(build string) bool {
	ctx := context.Background()
	c := e.ec2("us-east-1")
	fs := []types.Filter{{Name: aws.String("tag:imgbuild:build"), Values: []string{build}}}
	insts, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: fs})
	e.must(err)
	seen := false
	for _, r := range insts.Reservations {
		for _, i := range r.Instances {
			seen = true
			if i.State.Name != types.InstanceStateNameTerminated {
				return false
			}
		}
	}
	kps, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: fs})
	e.must(err)
	sgs, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: fs})
	e.must(err)
	return seen && len(kps.KeyPairs) == 0 && len(sgs.SecurityGroups) == 0
}
