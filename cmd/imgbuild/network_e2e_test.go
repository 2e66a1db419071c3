package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// clearKeysTemplate builds two images from one source: "cleared" with
// ssh_clear_authorized_keys, "kept" without. The provisioner adds another
// key (%s) to the SSH user's authorized_keys, as a template giving a team
// access would.
const clearKeysTemplate = `
source "amazon-ebs" "base" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "keys-{{timestamp}}"
  source_ami_filter {
    filters = {
      name = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"
    }
    owners      = ["099720109477"]
    most_recent = true
  }
}

build {
  name = "keys"
  source "source.amazon-ebs.base" {
    name                      = "cleared"
    ami_name                  = "keys-cleared"
    ssh_clear_authorized_keys = true
  }
  source "source.amazon-ebs.base" {
    name     = "kept"
    ami_name = "keys-kept"
  }
  provisioner "shell" {
    inline = ["echo '%s' >> ~/.ssh/authorized_keys"]
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
}
`

// TestSSHClearAuthorizedKeysEndToEnd: with ssh_clear_authorized_keys the
// image no longer authorizes the build's temporary key, while the key a
// provisioner added stays; without it (the control) the temporary key is
// still there. An instance launched from each image shows its
// authorized_keys (the first boot adds the launch key to the image's, as
// cloud-init does).
func TestSSHClearAuthorizedKeysEndToEnd(t *testing.T) {
	e := newE2E(t, "instant")
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	e.must(err)
	sshPub, err := ssh.NewPublicKey(pub)
	e.must(err)
	team := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " team@example.com"
	e.write(map[string]string{"main.pkr.hcl": fmt.Sprintf(clearKeysTemplate, team)})
	code, out, errOut := e.buildHere()
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := strings.Count(out, "removing the temporary key from authorized_keys"); n != 1 {
		t.Errorf("%d builds removed the temporary key, want 1 (cleared):\n%s", n, out)
	}
	if strings.Contains(out, "could not remove the temporary key") {
		t.Errorf("removing the temporary key failed:\n%s", out)
	}
	images := map[string]string{}
	for _, b := range e.manifest("manifest.json").Builds {
		images[b.Name] = imageIn(b, "us-east-1")
	}
	for name, wantTemporary := range map[string]bool{"keys.amazon-ebs.cleared": false, "keys.amazon-ebs.kept": true} {
		if images[name] == "" {
			t.Fatalf("no image of %s in the manifest: %v", name, images)
		}
		inst, keyPEM := e.launch("us-east-1", images[name], types.InstanceTypeT3Micro, types.KeyTypeEd25519, "")
		signer, err := ssh.ParsePrivateKey(keyPEM)
		e.must(err)
		launchKey := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
		conn := e.sshAs(inst, "ec2-user", signer)
		keys := sshOutput(t, conn, "cat ~/.ssh/authorized_keys")
		var others []string
		for _, line := range strings.Split(strings.TrimSpace(keys), "\n") {
			if line != team && !strings.HasPrefix(line, launchKey) {
				others = append(others, line)
			}
		}
		if !slices.Contains(strings.Split(keys, "\n"), team) {
			t.Errorf("%s: the provisioner's key is gone from authorized_keys:\n%s", name, keys)
		}
		switch {
		case wantTemporary && len(others) != 1:
			t.Errorf("%s (control, no ssh_clear_authorized_keys): want the temporary key left in authorized_keys, got %q", name, others)
		case !wantTemporary && len(others) != 0:
			t.Errorf("%s: keys left in authorized_keys besides the provisioner's and the launch key: %q", name, others)
		}
	}
}

// buildHere runs `imgbuild build .` in the test's directory, where the
// template's relative outputs (manifest.json) go, and returns its exit
// code and output.
func (e *e2e) buildHere() (int, string, string) {
	e.t.Helper()
	cmd := e.command("build", ".")
	cmd.Dir = e.dir
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errOut.String()
	case err != nil:
		e.t.Fatalf("imgbuild build: %v", err)
	}
	return 0, out.String(), errOut.String()
}

// sshAs logs in to an instance as user with signer.
func (e *e2e) sshAs(inst types.Instance, user string, signer ssh.Signer) *ssh.Client {
	e.t.Helper()
	addr := aws.ToString(inst.PublicIpAddress) + ":22"
	var conn *ssh.Client
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		conn, err = ssh.Dial("tcp", addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		e.t.Fatalf("ssh %s@%s: %v", user, addr, err)
	}
	e.t.Cleanup(func() { conn.Close() })
	return conn
}

// networkTemplate launches into the VPC, subnet and security group found
// by filters.
const networkTemplate = `
source "amazon-ebs" "net" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "net-{{timestamp}}"
  source_ami_filter {
    filters = {
      name = "amzn2-ami-hvm-*-x86_64-gp2"
    }
    owners      = ["amazon"]
    most_recent = true
  }
  vpc_filter {
    filters = {
      "tag:Name"   = "build-vpc"
      "is-default" = "false"
    }
  }
  subnet_filter {
    filters = {
      "tag:Tier" = "build"
    }
    most_free = true
  }
  security_group_filter {
    filters = {
      "tag:Role" = "packer-ssh"
    }
  }
}

build {
  sources = ["source.amazon-ebs.net"]
  provisioner "shell" {
    inline = ["echo networked"]
  }
}
`

// TestNetworkFiltersEndToEnd: vpc_filter, subnet_filter (most_free) and
// security_group_filter pick the VPC, subnet and group EC2 describes, not
// the look-alikes in the default VPC, and the build makes no temporary
// security group.
func TestNetworkFiltersEndToEnd(t *testing.T) {
	e := newE2E(t, "instant")
	ctx := context.Background()
	c := e.ec2("us-east-1")
	tagged := func(rt types.ResourceType, k, v string) []types.TagSpecification {
		return []types.TagSpecification{{ResourceType: rt, Tags: []types.Tag{{Key: aws.String(k), Value: aws.String(v)}}}}
	}
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.42.0.0/16"), TagSpecifications: tagged(types.ResourceTypeVpc, "Name", "build-vpc")})
	e.must(err)
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	defVpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	e.must(err)
	if len(defVpcs.Vpcs) != 1 {
		t.Fatalf("default VPCs: %+v", defVpcs.Vpcs)
	}
	defVpc := aws.ToString(defVpcs.Vpcs[0].VpcId)
	subnet := func(vpc, cidr string) string {
		out, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(cidr),
			TagSpecifications: tagged(types.ResourceTypeSubnet, "Tier", "build")})
		e.must(err)
		return aws.ToString(out.Subnet.SubnetId)
	}
	big := subnet(vpcID, "10.42.1.0/24")
	subnet(vpcID, "10.42.2.0/28")     // fewer free addresses
	subnet(defVpc, "172.31.200.0/24") // same tag, default VPC
	group := func(vpc, name string) string {
		out, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("ssh for builds"),
			VpcId: aws.String(vpc), TagSpecifications: tagged(types.ResourceTypeSecurityGroup, "Role", "packer-ssh")})
		e.must(err)
		id := aws.ToString(out.GroupId)
		_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id),
			IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
				IpRanges: []types.IpRange{{CidrIp: aws.String("127.0.0.0/8")}}}}})
		e.must(err)
		return id
	}
	sg := group(vpcID, "build-ssh")
	group(defVpc, "default-vpc-ssh")

	e.write(map[string]string{"main.pkr.hcl": networkTemplate})
	groupsBefore := e.cloud.Stats().Actions["CreateSecurityGroup"]
	code, out, errOut := e.buildHere()
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"using VPC " + vpcID, "using subnet " + big, fmt.Sprintf("using security groups [%s]", sg), "amazon-ebs.net: networked"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	id := launchedInstance.FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no launched instance in the output:\n%s", out)
	}
	d, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id[1]}})
	e.must(err)
	inst := d.Reservations[0].Instances[0]
	var groups []string
	for _, g := range inst.SecurityGroups {
		groups = append(groups, aws.ToString(g.GroupId))
	}
	if aws.ToString(inst.VpcId) != vpcID || aws.ToString(inst.SubnetId) != big || !slices.Equal(groups, []string{sg}) {
		t.Errorf("the build instance ran in VPC %s, subnet %s, groups %v; want %s, %s, [%s]",
			aws.ToString(inst.VpcId), aws.ToString(inst.SubnetId), groups, vpcID, big, sg)
	}
	if n := e.cloud.Stats().Actions["CreateSecurityGroup"] - groupsBefore; n != 0 {
		t.Errorf("the build created %d security groups; security_group_filter names existing ones", n)
	}
}

// publicIPTemplate admits SSH only from this machine's public address.
const publicIPTemplate = `
source "amazon-ebs" "pip" {
  region                                    = "us-east-1"
  instance_type                             = "t3.micro"
  ssh_username                              = "ec2-user"
  ami_name                                  = "pip-{{timestamp}}"
  temporary_security_group_source_public_ip = true
  source_ami_filter {
    filters = {
      name = "amzn2-ami-hvm-*-x86_64-gp2"
    }
    owners      = ["amazon"]
    most_recent = true
  }
}

build {
  sources = ["source.amazon-ebs.pip"]
  provisioner "shell" {
    inline = ["echo reached"]
  }
}
`

// TestTemporarySGSourcePublicIPEndToEnd: with
// temporary_security_group_source_public_ip the build asks the public IP
// service (IMGBUILD_PUBLIC_IP_URL, here a server on 127.0.0.1 answering
// "127.0.0.1") and its temporary group admits the SSH port from that /32
// only. The group is read from EC2 as soon as its ingress rule is
// authorized (the build deletes it at the end).
func TestTemporarySGSourcePublicIPEndToEnd(t *testing.T) {
	t.Parallel()
	testenv.Require(t, testenv.Moto, testenv.Root, testenv.Debootstrap)
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		fmt.Fprintln(w, "127.0.0.1")
	}))
	t.Cleanup(srv.Close)

	var (
		mu    sync.Mutex
		url   string
		rules []string // the temporary groups' rules, read after each AuthorizeSecurityGroupIngress
		seen  error
	)
	intercept := func(r localcloud.Request, p localcloud.Phase) localcloud.Verdict {
		if r.Action != "AuthorizeSecurityGroupIngress" || p != localcloud.AfterResponse {
			return localcloud.Continue
		}
		mu.Lock()
		defer mu.Unlock()
		c := ec2.NewFromConfig(testenv.AWSConfig(url, r.Region))
		out, err := c.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{
			Filters: []types.Filter{{Name: aws.String("tag-key"), Values: []string{"imgbuild:run-id"}}}})
		if err != nil {
			seen = err
			return localcloud.Continue
		}
		for _, g := range out.SecurityGroups {
			for _, perm := range g.IpPermissions {
				for _, ip := range perm.IpRanges {
					rules = append(rules, fmt.Sprintf("%s %s %d-%d from %s", aws.ToString(g.GroupName), aws.ToString(perm.IpProtocol),
						aws.ToInt32(perm.FromPort), aws.ToInt32(perm.ToPort), aws.ToString(ip.CidrIp)))
				}
			}
		}
		return localcloud.Continue
	}
	cloud := testenv.LocalCloudWith(t, localcloud.Options{Settings: profileSettings(t, "instant"), Intercept: intercept})
	mu.Lock()
	url = cloud.URL()
	mu.Unlock()
	e := e2eOn(t, cloud, "")
	e.env = append(e.env, "IMGBUILD_PUBLIC_IP_URL="+srv.URL)
	e.write(map[string]string{"main.pkr.hcl": publicIPTemplate})
	code, out, errOut := e.buildHere()
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "amazon-ebs.pip: reached") {
		t.Errorf("the provisioner did not run:\n%s", out)
	}
	if asked.Load() == 0 {
		t.Error("the build did not ask the public IP service")
	}
	mu.Lock()
	defer mu.Unlock()
	if seen != nil {
		t.Fatalf("describe the temporary group: %v", seen)
	}
	if len(rules) != 1 || !regexp.MustCompile(`^imgbuild_\S+ tcp 22-22 from 127\.0\.0\.1/32$`).MatchString(rules[0]) {
		t.Errorf("the temporary group's ingress rules: %q, want tcp 22 from 127.0.0.1/32 only", rules)
	}
	if left := e.runResources("us-east-1", runIDFrom(t, out)); slices.ContainsFunc(left, func(s string) bool { return strings.HasPrefix(s, "security group ") }) {
		t.Errorf("the temporary group was left behind: %v", left)
	}
}
