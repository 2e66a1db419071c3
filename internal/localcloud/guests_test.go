package localcloud_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/textproto"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// guestCloud starts a cloud with guests and returns its state directory.
func guestCloud(t *testing.T) (*localcloud.Cloud, string) {
	t.Helper()
	testenv.Require(t, testenv.Moto, testenv.Root, testenv.Debootstrap)
	c := testenv.LocalCloud(t, sshSettings())
	return c, c.StateDir()
}

// login waits for an instance to be running and its sshd to answer (the
// guest boots after RunInstances answers, as on EC2), and logs in as
// ec2-user.
func login(t *testing.T, c *ec2.Client, id string, key ssh.Signer) *ssh.Client {
	t.Helper()
	eventually(t, id+" running", func() bool { return instanceState(t, c, id) == types.InstanceStateNameRunning })
	addr := net.JoinHostPort(aws.ToString(describeInstance(t, c, id).PublicIpAddress), "22")
	var conn *ssh.Client
	eventually(t, "ssh ec2-user@"+addr, func() bool {
		var err error
		conn, err = sshLogin(addr, "ec2-user", key)
		return err == nil
	})
	t.Cleanup(func() { conn.Close() })
	return conn
}

// runFrom launches an instance of image with key and optional user data.
func runFrom(t *testing.T, c *ec2.Client, image, key, userData string) string {
	t.Helper()
	in := &ec2.RunInstancesInput{ImageId: aws.String(image), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: types.InstanceTypeT3Micro, KeyName: aws.String(key)}
	if userData != "" {
		in.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte(userData)))
	}
	out, err := c.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatalf("run instance of %s: %v", image, err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

func importKey(t *testing.T, c *ec2.Client, name string, key ssh.Signer) {
	t.Helper()
	if _, err := c.ImportKeyPair(context.Background(), &ec2.ImportKeyPairInput{KeyName: aws.String(name),
		PublicKeyMaterial: ssh.MarshalAuthorizedKey(key.PublicKey())}); err != nil {
		t.Fatal(err)
	}
}

// TestImagesCarryContent writes a file on an instance with sudo, images
// it, copies the image to another region, and finds the file (and the
// first boot of the new instance's user data) on an instance launched
// there; a snapshot of the copy registered as an image boots the same
// content. Deregistering and deleting everything frees the layers.
func TestImagesCarryContent(t *testing.T) {
	t.Parallel()
	cloud, tmp := guestCloud(t)
	ctx := context.Background()
	use1, euw1 := client(cloud, "us-east-1", 0), client(cloud, "eu-west-1", 0)
	key := newSigner(t)
	importKey(t, use1, "k", key)
	importKey(t, euw1, "k", key)

	builder := runFrom(t, use1, linuxAMI(t, use1), "k", "")
	conn := login(t, use1, builder, key)
	output(t, conn, "echo built | sudo tee /etc/imgbuild-marker >/dev/null && sudo rm /etc/motd")
	img, err := use1.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(builder), Name: aws.String("content")})
	if err != nil {
		t.Fatal(err)
	}
	// Without NoReboot the instance was stopped for the capture and comes
	// back; what it writes afterwards is not in the image.
	conn = login(t, use1, builder, key)
	output(t, conn, "echo later | sudo tee /etc/after-image >/dev/null")
	cp, err := euw1.CopyImage(ctx, &ec2.CopyImageInput{SourceRegion: aws.String("us-east-1"), SourceImageId: img.ImageId, Name: aws.String("content")})
	if err != nil {
		t.Fatal(err)
	}
	layers := filepath.Join(tmp, "layers", "*")
	if ls, _ := filepath.Glob(layers); len(ls) != 1 {
		t.Errorf("layers after create and copy: %v, want one shared", ls)
	}

	userData := "#!/bin/sh\necho from-user-data > /var/tmp/first-boot\n"
	copyInstance := runFrom(t, euw1, aws.ToString(cp.ImageId), "k", userData)
	conn = login(t, euw1, copyInstance, key)
	if got := output(t, conn, "cat /etc/imgbuild-marker; test -e /etc/motd || echo no-motd; test -e /etc/after-image || echo not-after"); got != "built\nno-motd\nnot-after\n" {
		t.Errorf("instance of the copy sees %q", got)
	}
	if got := output(t, conn, "cloud-init status --wait; cat /var/tmp/first-boot"); !strings.HasSuffix(got, "status: done\nfrom-user-data\n") {
		t.Errorf("user data: %q", got)
	}

	// CreateSnapshot of a root volume, then RegisterImage from it.
	vol := aws.ToString(describeInstance(t, euw1, copyInstance).BlockDeviceMappings[0].Ebs.VolumeId)
	output(t, conn, "echo snap | sudo tee /etc/from-snapshot >/dev/null")
	snap, err := euw1.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol)})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := euw1.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("registered"), RootDeviceName: aws.String("/dev/xvda"),
		Architecture: types.ArchitectureValuesX8664, VirtualizationType: aws.String("hvm"),
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{SnapshotId: snap.SnapshotId}}}})
	if err != nil {
		t.Fatal(err)
	}
	regInstance := runFrom(t, euw1, aws.ToString(reg.ImageId), "k", "")
	conn = login(t, euw1, regInstance, key)
	if got := output(t, conn, "cat /etc/imgbuild-marker /etc/from-snapshot"); got != "built\nsnap\n" {
		t.Errorf("instance of the registered snapshot sees %q", got)
	}

	// Terminate everything, deregister, delete the snapshots: no layer left.
	for c, ids := range map[*ec2.Client][]string{use1: {builder}, euw1: {copyInstance, regInstance}} {
		if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
			t.Fatal(err)
		}
	}
	for c, imgs := range map[*ec2.Client][]string{use1: {aws.ToString(img.ImageId)}, euw1: {aws.ToString(cp.ImageId), aws.ToString(reg.ImageId)}} {
		for _, id := range imgs {
			snaps := describeImage(t, c, id).BlockDeviceMappings
			if _, err := c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}); err != nil {
				t.Fatal(err)
			}
			for _, m := range snaps {
				if m.Ebs != nil && m.Ebs.SnapshotId != nil {
					_, _ = c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: m.Ebs.SnapshotId})
				}
			}
		}
	}
	if _, err := euw1.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: snap.SnapshotId}); err != nil && errorCode(err) != "InvalidSnapshot.NotFound" {
		t.Fatal(err)
	}
	if ls, _ := filepath.Glob(layers); len(ls) != 0 {
		t.Errorf("layers left after everything was deleted: %v", ls)
	}
	if disks, _ := filepath.Glob(filepath.Join(tmp, "instances", "*")); len(disks) != 0 {
		t.Errorf("instance disks left after termination: %v", disks)
	}
}

// TestTwoInstancesHaveTheirOwnTmp: a file one guest writes to /tmp is not
// in the other's.
func TestTwoInstancesHaveTheirOwnTmp(t *testing.T) {
	t.Parallel()
	cloud, _ := guestCloud(t)
	c := client(cloud, "us-east-1", 0)
	key := newSigner(t)
	importKey(t, c, "k", key)
	a, b := runFrom(t, c, linuxAMI(t, c), "k", ""), runFrom(t, c, linuxAMI(t, c), "k", "")
	ca, cb := login(t, c, a, key), login(t, c, b, key)
	output(t, ca, "echo a > /tmp/upload.sh && chmod 0600 /tmp/upload.sh")
	output(t, cb, "echo b > /tmp/upload.sh && chmod 0600 /tmp/upload.sh")
	if got := output(t, ca, "cat /tmp/upload.sh; ps -e | wc -l"); !strings.HasPrefix(got, "a\n") {
		t.Errorf("instance a reads %q", got)
	}
}

// TestStopStartRebootKeepTheDisk: StopInstances ends the guest's
// processes and keeps its disk, StartInstances boots it again, and
// RebootInstances restarts its processes.
func TestStopStartRebootKeepTheDisk(t *testing.T) {
	t.Parallel()
	cloud, _ := guestCloud(t)
	ctx := context.Background()
	c := client(cloud, "us-east-1", 0)
	key := newSigner(t)
	importKey(t, c, "k", key)
	id := runFrom(t, c, linuxAMI(t, c), "k", "")
	conn := login(t, c, id, key)
	output(t, conn, "echo kept | sudo tee /var/lib/kept >/dev/null")
	bootID := output(t, conn, "cat /proc/1/stat | cut -d' ' -f22") // init's start time
	if _, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a new boot", func() bool {
		conn, err := sshLogin(net.JoinHostPort(aws.ToString(describeInstance(t, c, id).PublicIpAddress), "22"), "ec2-user", key)
		if err != nil {
			return false
		}
		defer conn.Close()
		return output(t, conn, "cat /proc/1/stat | cut -d' ' -f22") != bootID
	})
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "stopped", func() bool { return instanceState(t, c, id) == types.InstanceStateNameStopped })
	if addr, ok := cloud.SSHAddr("us-east-1", id); ok {
		t.Fatalf("a stopped instance's sshd listens on %s", addr)
	}
	if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	conn = login(t, c, id, key)
	if got := output(t, conn, "cat /var/lib/kept; cloud-init status"); got != "kept\nstatus: done\n" {
		t.Errorf("after stop and start: %q", got)
	}
}

// TestUserDataSubset boots an instance with gzip-compressed MIME
// multi-part user data: a cloud-config part (write_files, users,
// packages, runcmd) and a shell script, and finds each one's effect.
func TestUserDataSubset(t *testing.T) {
	t.Parallel()
	cloud, _ := guestCloud(t)
	c := client(cloud, "us-east-1", 0)
	key := newSigner(t)
	importKey(t, c, "k", key)
	config := `#cloud-config
write_files:
  - path: /etc/app/config.txt
    content: aGVsbG8gZnJvbSB3cml0ZV9maWxlcwo=
    encoding: b64
    permissions: '0640'
users:
  - default
  - name: deploy
    groups: adm
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
    ssh_authorized_keys:
      - ` + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key.PublicKey()))) + `
packages:
  - tree
runcmd:
  - [sh, -c, "echo runcmd ran > /var/tmp/runcmd"]
unknown_module: true
`
	script := "#!/bin/sh\necho script ran > /var/tmp/script\n"
	var mime bytes.Buffer
	mw := multipart.NewWriter(&mime)
	fmt.Fprintf(&mime, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=%q\n\n", mw.Boundary())
	for _, part := range []struct{ typ, body string }{{"text/cloud-config", config}, {"text/x-shellscript", script}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {part.typ + `; charset="us-ascii"`}})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, part.body)
	}
	mw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(mime.Bytes())
	zw.Close()

	out, err := c.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String(linuxAMI(t, c)), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: types.InstanceTypeT3Micro, KeyName: aws.String("k"), UserData: aws.String(base64.StdEncoding.EncodeToString(gz.Bytes()))})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	conn := login(t, c, id, key)
	if got := output(t, conn, "cloud-init status --wait | tail -n 1"); got != "status: done\n" {
		t.Fatalf("cloud-init status: %q\n%s", got, output(t, conn, "sudo cat /var/log/cloud-init-output.log"))
	}
	for cmd, want := range map[string]string{
		"sudo cat /etc/app/config.txt; sudo stat -c %a /etc/app/config.txt":                "hello from write_files\n640\n",
		"cat /var/tmp/runcmd /var/tmp/script":                                              "runcmd ran\nscript ran\n",
		"dpkg-query -W -f '${Status}' tree":                                                "install ok installed",
		"sudo grep -c 'unsupported key \"unknown_module\"' /var/log/cloud-init-output.log": "1\n",
	} {
		if got := output(t, conn, cmd); got != want {
			t.Errorf("%s: %q, want %q", cmd, got, want)
		}
	}
	ip := aws.ToString(describeInstance(t, c, id).PublicIpAddress)
	deploy, err := sshLogin(net.JoinHostPort(ip, "22"), "deploy", key)
	if err != nil {
		t.Fatalf("the user from users cannot log in: %v", err)
	}
	defer deploy.Close()
	if got := output(t, deploy, "sudo -n id -un; id -Gn"); !strings.HasPrefix(got, "root\n") || !strings.Contains(got, "adm") {
		t.Errorf("deploy: %q", got)
	}
}
