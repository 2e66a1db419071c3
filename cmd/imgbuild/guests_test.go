package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// guestTemplate provisions with sudo: a marker file and a package from
// the guest's package manager.
const guestTemplate = `
source "amazon-ebs" "deb" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "guest-e2e-{{timestamp}}"
  ami_regions   = ["eu-west-1"]
  source_ami_filter {
    filters     = { name = "amzn2-ami-hvm-*-x86_64-gp2" }
    owners      = ["amazon"]
    most_recent = true
  }
}

build {
  sources = ["source.amazon-ebs.deb"]
  provisioner "shell" {
    inline = [
      "echo built-by-imgbuild | sudo tee /etc/imgbuild-marker",
      "sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q tree",
    ]
  }
  post-processor "manifest" {
    output = "${path.root}/manifest.json"
  }
}
`

// TestBuiltImageBootsItsContent builds an image whose provisioners use
// sudo, write /etc/imgbuild-marker and install a package; an instance
// launched through the EC2 API from the copy in eu-west-1, with user data,
// has the marker and the package and has run the user data.
func TestBuiltImageBootsItsContent(t *testing.T) {
	e := newE2E(t, "instant")
	e.write(map[string]string{"main.pkr.hcl": guestTemplate})
	code, out, errOut := e.imgbuild("build", e.dir)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Setting up tree") {
		t.Errorf("the package was not installed by the guest's apt-get:\n%s", out)
	}
	image := ""
	for _, im := range e.manifest("manifest.json").Builds[0].Images {
		if im.Region == "eu-west-1" {
			image = im.ImageID
		}
	}
	if image == "" {
		t.Fatal("no image in eu-west-1 in the manifest")
	}
	userData := "#cloud-config\nruncmd:\n  - echo ran-at-first-boot > /var/tmp/user-data-ran\n"
	conn := e.boot("eu-west-1", image, userData)
	for cmd, want := range map[string]string{
		"cat /etc/imgbuild-marker":             "built-by-imgbuild",
		"dpkg-query -W -f '${Status}' tree":    "install ok installed",
		"cloud-init status --wait | tail -n 1": "status: done",
		"cat /var/tmp/user-data-ran":           "ran-at-first-boot",
	} {
		if got := strings.TrimSpace(sshOutput(t, conn, cmd)); got != want {
			t.Errorf("%s on the new instance: %q, want %q", cmd, got, want)
		}
	}
}

// TestParallelBuildsShareNoFiles runs two builds at once that upload to
// the same remote path: each instance has its own disk, so neither sees
// the other's file.
func TestParallelBuildsShareNoFiles(t *testing.T) {
	e := newE2E(t, "instant")
	tpl := `
source "amazon-ebs" "x" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "same-path-%[1]s-{{timestamp}}"
  source_ami_filter {
    filters     = { name = "amzn2-ami-hvm-*-x86_64-gp2" }
    owners      = ["amazon"]
    most_recent = true
  }
}
build {
  sources = ["source.amazon-ebs.x"]
  provisioner "file" {
    content     = "from build %[1]s"
    destination = "/tmp/upload.txt"
  }
  provisioner "shell" {
    inline = ["sleep 1", "grep -qx 'from build %[1]s' /tmp/upload.txt", "sudo chmod 0600 /tmp/upload.txt"]
  }
}
`
	e.write(map[string]string{"a/main.pkr.hcl": fmt.Sprintf(tpl, "a"), "b/main.pkr.hcl": fmt.Sprintf(tpl, "b")})
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, out, errOut := e.imgbuild("build", filepath.Join(e.dir, name))
			if code != 0 {
				t.Errorf("build %s: exit %d\n%s\n%s", name, code, out, errOut)
			}
		}()
	}
	wg.Wait()
}

// TestPackerCompatExampleBuilds builds examples/packer-compat unchanged:
// sudo, a script run through sudo -E, a reboot the provisioner expects,
// and a file installed after it; an instance of its ap-southeast-2 copy
// has the message of the day.
func TestPackerCompatExampleBuilds(t *testing.T) {
	e := newE2E(t, "instant")
	if out, err := exec.Command("cp", "-r", "../../examples/packer-compat/.", e.dir).CombinedOutput(); err != nil {
		t.Fatalf("copy the example: %v %s", err, out)
	}
	cmd := e.command("build", "al2023.pkr.hcl")
	cmd.Dir = e.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, want := range []string{"updating packages for staging", "hardening sshd"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	image := ""
	for _, im := range e.manifest("manifest.json").Builds[0].Images {
		if im.Region == "ap-southeast-2" {
			image = im.ImageID
		}
	}
	motd, err := os.ReadFile("../../examples/packer-compat/files/motd")
	if err != nil {
		t.Fatal(err)
	}
	conn := e.boot("ap-southeast-2", image, "")
	if got := sshOutput(t, conn, "cat /etc/motd"); got != string(motd) {
		t.Errorf("/etc/motd of an instance of the copy: %q, want %q", got, motd)
	}
	if got := strings.TrimSpace(sshOutput(t, conn, "grep '^PermitRootLogin' /etc/ssh/sshd_config")); got != "PermitRootLogin no" {
		t.Errorf("the hardening is not in the image: %q", got)
	}
}

// launch runs an instance of image in region through the EC2 API, as a
// user would, with a new key pair of keyType and optional user data, and
// waits until it runs. It returns the instance and the key pair's private
// key (PEM); the instance is terminated when the test ends.
func (e *e2e) launch(region, image string, itype types.InstanceType, keyType types.KeyType, userData string) (types.Instance, []byte) {
	t := e.t
	t.Helper()
	ctx := context.Background()
	c := e.ec2(region)
	name := fmt.Sprintf("inspect-%d", time.Now().UnixNano())
	kp, err := c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String(name), KeyType: keyType})
	e.must(err)
	in := &ec2.RunInstancesInput{ImageId: aws.String(image), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: itype, KeyName: aws.String(name)}
	if userData != "" {
		in.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte(userData)))
	}
	run, err := c.RunInstances(ctx, in)
	e.must(err)
	id := aws.ToString(run.Instances[0].InstanceId)
	t.Cleanup(func() {
		_, _ = c.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	})
	w := ec2.NewInstanceRunningWaiter(c, func(o *ec2.InstanceRunningWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	desc, err := w.WaitForOutput(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, time.Minute)
	e.must(err)
	return desc.Reservations[0].Instances[0], []byte(aws.ToString(kp.KeyMaterial))
}

// boot launches an instance of image in region through the EC2 API, as a
// user would, and logs in as ec2-user with a new key pair.
func (e *e2e) boot(region, image, userData string) *ssh.Client {
	t := e.t
	t.Helper()
	inst, keyPEM := e.launch(region, image, types.InstanceTypeT3Micro, types.KeyTypeEd25519, userData)
	id := aws.ToString(inst.InstanceId)
	key, err := ssh.ParsePrivateKey(keyPEM)
	e.must(err)
	addr := net.JoinHostPort(aws.ToString(inst.PublicIpAddress), "22")
	var conn *ssh.Client
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		conn, err = ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "ec2-user", Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("ssh ec2-user@%s (instance %s of %s in %s): %v", addr, id, image, region, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func sshOutput(t testing.TB, c *ssh.Client, cmd string) string {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	if err != nil {
		t.Errorf("%s: %v\n%s", cmd, err, out)
	}
	return string(out)
}

// TestGuestsRefusedWithoutRoot runs the local cloud as an unprivileged
// user: it refuses to start guests, saying why, instead of running
// anything on the host.
func TestGuestsRefusedWithoutRoot(t *testing.T) {
	testenv.Require(t, testenv.Root) // to become another user
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) is missing")
	}
	dir, err := os.MkdirTemp("", "imgbuild-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "imgbuild")
	if out, err := exec.Command("cp", testBinary(t), bin).CombinedOutput(); err != nil {
		t.Fatalf("copy the binary: %v %s", err, out)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, "localcloud", "--set", "ssh=true", "--", "true")
	cmd.Dir, cmd.Env = dir, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the local cloud started guests without root:\n%s", out)
	}
	if !strings.Contains(string(out), "they need root") {
		t.Errorf("no reason given:\n%s", out)
	}
}

// TestDemoBuildsAndBoots runs what make demo runs: examples/demo.pkr.hcl,
// then examples/demo/inspect on an instance of its eu-west-1 copy.
func TestDemoBuildsAndBoots(t *testing.T) {
	e := newE2E(t, "instant")
	if out, err := exec.Command("cp", "-r", "../../examples/demo.pkr.hcl", "../../examples/demo", e.dir).CombinedOutput(); err != nil {
		t.Fatalf("copy the example: %v %s", err, out)
	}
	inspect := filepath.Join(e.dir, "inspect-bin")
	if out, err := exec.Command("go", "build", "-o", inspect, "../../examples/demo/inspect").CombinedOutput(); err != nil {
		t.Fatalf("build inspect: %v %s", err, out)
	}
	manifest := filepath.Join(e.dir, "manifest.json")
	code, out, errOut := e.imgbuild("build", "-var", "manifest_path="+manifest, filepath.Join(e.dir, "demo.pkr.hcl"))
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	cmd := exec.Command(inspect, manifest, "eu-west-1")
	cmd.Env = e.env
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("inspect: %v\n%s", err, got)
	}
	for _, want := range []string{"first boot:  status: done", "user data:   user data ran at first boot of ip-", "provisioned: hello from imgbuild (built ", "package:     tree v", "system:      Debian GNU/Linux"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("inspect output lacks %q:\n%s", want, got)
		}
	}
}
