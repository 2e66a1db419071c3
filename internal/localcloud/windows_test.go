package localcloud_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/communicator/winrm"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestWindowsGuest launches the catalogue's Windows Server 2022: with an
// RSA key pair, GetPasswordData gives the guest's random Administrator
// password (empty until it has booted), which logs in over WinRM; with an
// ed25519 key pair it gives nothing, and a `net user` line of the user
// data sets the password instead. The cloud serves the guest's log, with
// the password masked.
func TestWindowsGuest(t *testing.T) {
	testenv.Require(t, testenv.Moto, testenv.Root, testenv.Debootstrap)
	s := sshSettings()
	s.WindowsBoot = 3 * time.Second // long enough to ask before it is over
	cloud := testenv.LocalCloud(t, s)
	c := client(cloud, "us-east-1", 0)
	ctx := context.Background()
	imgs, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"Windows_Server-2022-English-Full-Base-*"}}}})
	if err != nil || len(imgs.Images) != 2 {
		t.Fatalf("Windows Server 2022 images: %v, %d", err, len(imgs.Images))
	}
	image := aws.ToString(imgs.Images[0].ImageId)
	if p := imgs.Images[0].Platform; !strings.EqualFold(string(p), "windows") {
		t.Fatalf("image %s has platform %q", image, p)
	}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaSigner, err := ssh.NewSignerFromKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	importKey(t, c, "win-rsa", rsaSigner)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edSigner, err := ssh.NewSignerFromKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	importKey(t, c, "win-ed", edSigner)

	random := runFrom(t, c, image, "win-rsa", "")
	if data := passwordData(t, c, random); data != "" {
		t.Errorf("password data right after RunInstances: %q, want none before Windows booted", data)
	}
	var data string
	eventually(t, "password data of "+random, func() bool { data = passwordData(t, c, random); return data != "" })
	ct, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 the format EC2 uses for Windows passwords.
	pw, err := rsa.DecryptPKCS1v15(rand.Reader, rsaKey, ct)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := cloud.GuestPassword("us-east-1", random, "Administrator"); string(pw) != want || len(pw) != 32 {
		t.Errorf("decrypted password %q, guest's %q", pw, want)
	}
	winrmRun(t, aws.ToString(describeInstance(t, c, random).PublicIpAddress), string(pw))

	userData := "<powershell>\nnet user Administrator \"Us3r-Data!\"\n</powershell>\n"
	set := runFrom(t, c, image, "win-ed", userData)
	winrmRun(t, aws.ToString(describeInstance(t, c, set).PublicIpAddress), "Us3r-Data!")
	if data := passwordData(t, c, set); data != "" {
		t.Errorf("password data with an ed25519 key pair: %q, want none", data)
	}
	resp, err := http.Get(cloud.URL() + "/_localcloud/guests/us-east-1/" + set + "/log")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	log, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(log), `"kind":"userdata"`) ||
		!strings.Contains(string(log), "net user Administrator ********") || strings.Contains(string(log), "Us3r-Data!") {
		t.Errorf("guest log: %d\n%s", resp.StatusCode, log)
	}
}

func passwordData(t *testing.T, c *ec2.Client, id string) string {
	t.Helper()
	out, err := c.GetPasswordData(context.Background(), &ec2.GetPasswordDataInput{InstanceId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetPasswordData %s: %v", id, err)
	}
	return aws.ToString(out.PasswordData)
}

// winrmRun logs in as Administrator over HTTPS with NTLM and runs a
// command.
func winrmRun(t *testing.T, host, password string) {
	t.Helper()
	cl, err := winrm.Connect(context.Background(), winrm.Options{Host: host, Port: 5986, User: "Administrator", Password: password,
		HTTPS: true, Insecure: true, NTLM: true, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("winrm Administrator@%s: %v", host, err)
	}
	defer cl.Close()
	var out strings.Builder
	code, err := cl.Run(context.Background(), &provision.Cmd{Command: "echo hello", Stdout: &out, Stderr: io.Discard})
	if err != nil || code != 0 || strings.TrimSpace(out.String()) != "hello" {
		t.Errorf("echo hello on %s: %d %v %q", host, code, err, out.String())
	}
}
