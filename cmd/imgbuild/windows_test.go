package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/communicator/winrm"
)

// guestEvent is one line of a simulated Windows guest's log.
type guestEvent struct {
	Kind string `json:"kind"`
	User string `json:"user"`
	Text string `json:"text"`
	Path string `json:"path"`
	Size int64  `json:"size"`
}

// guestLog reads the log of a Windows instance's guest.
func (e *e2e) guestLog(region, id string) []guestEvent {
	e.t.Helper()
	p := e.cloud.GuestLog(region, id)
	if p == "" {
		e.t.Fatalf("instance %s in %s has no Windows guest", id, region)
	}
	f, err := os.Open(p)
	e.must(err)
	defer f.Close()
	var out []guestEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev guestEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			e.t.Fatalf("guest log %s: %v: %s", p, err, sc.Text())
		}
		out = append(out, ev)
	}
	e.must(sc.Err())
	return out
}

var launchedInstance = regexp.MustCompile(`instance (i-[0-9a-f]+) launched in`)

// buildInstance returns the ID of the instance a build launched.
func buildInstance(t *testing.T, out string) string {
	t.Helper()
	m := launchedInstance.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no launched instance in the output:\n%s", out)
	}
	return m[1]
}

// copyExample copies an example directory into the test's directory.
func (e *e2e) copyExample(dir string) {
	e.t.Helper()
	e.must(os.CopyFS(e.dir, os.DirFS(filepath.Join("../../examples", dir))))
}

// inOrder reports the first of wants (matched as substrings of an event's
// kind, user, path or text) not found after the previous one.
func inOrder(events []guestEvent, wants ...[2]string) string {
	i := 0
	for _, w := range wants {
		for i < len(events) && !(events[i].Kind == w[0] && strings.Contains(events[i].User+"\x00"+events[i].Path+"\x00"+events[i].Text, w[1])) {
			i++
		}
		if i == len(events) {
			return fmt.Sprintf("%s %q", w[0], w[1])
		}
		i++
	}
	return ""
}

func describeEvents(events []guestEvent) string {
	var b strings.Builder
	for _, ev := range events {
		text := ev.Text
		if len(text) > 160 {
			text = text[:160] + "..."
		}
		fmt.Fprintf(&b, "  %-9s user=%q path=%q %q\n", ev.Kind, ev.User, ev.Path, text)
	}
	return b.String()
}

// TestWindowsPackerDocsTemplateBuilds builds, unchanged, a template in the
// shape of Packer's amazon-ebs WinRM example: user data that sets the
// Administrator password and opens WinRM over HTTP, two powershell
// provisioners around a windows-restart.
func TestWindowsPackerDocsTemplateBuilds(t *testing.T) {
	e := newE2E(t, "instant")
	e.copyExample("windows/winrm-password")
	code, out, errOut := e.imgbuild("build", filepath.Join(e.dir, "windows.pkr.hcl"))
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	id := buildInstance(t, out)
	events := e.guestLog("us-east-1", id)
	if miss := inOrder(events,
		[2]string{"userdata", "net user Administrator ********"},
		[2]string{"script", `HELLO NEW USER; WELCOME TO $Env:DEVOPS_LIFE_IMPROVER`},
		[2]string{"restart", ""},
		[2]string{"command", "restarted."},
		[2]string{"script", `Write-Host "VAR4 is $Env:VAR4"`},
	); miss != "" {
		t.Errorf("guest log has no %s in order:\n%s", miss, describeEvents(events))
	}
	for _, ev := range events {
		if strings.Contains(ev.Text, "SuperS3cr3t") {
			t.Errorf("the guest log shows the password: %+v", ev)
		}
	}
	if strings.Contains(out, "SuperS3cr3t!!!!") || strings.Contains(errOut, "SuperS3cr3t!!!!") {
		t.Error("the build output shows winrm_password")
	}
	st := e.cloud.Stats()
	if st.Actions["GetPasswordData"] != 0 {
		t.Errorf("GetPasswordData called %d times with winrm_password set", st.Actions["GetPasswordData"])
	}
}

// TestWindowsSysprepImage builds examples/windows/sysprep: the password
// from GetPasswordData, powershell (inline, and a script as an elevated
// user), windows-restart with the registry check, a file, windows-shell
// and sysprep, in two regions. The guest log shows the commands in order,
// StopInstances is never called, the password shows nowhere, and an
// instance launched from the copy has the file.
func TestWindowsSysprepImage(t *testing.T) {
	e := newE2E(t, "instant")
	e.copyExample("windows/sysprep")
	logPath := filepath.Join(e.dir, "imgbuild.log")
	e.env = append(e.env, "IMGBUILD_LOG=debug", "IMGBUILD_LOG_PATH="+logPath)
	code, out, errOut := e.imgbuild("build", filepath.Join(e.dir, "windows.pkr.hcl"))
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "admits port 5986 from [127.0.0.0/8]") {
		t.Errorf("the temporary security group does not admit exactly WinRM over HTTPS:\n%s", out)
	}
	id := buildInstance(t, out)
	password, ok := e.cloud.GuestPassword("us-east-1", id, "Administrator")
	if !ok || password == "" {
		t.Fatalf("instance %s has no Administrator password", id)
	}
	events := e.guestLog("us-east-1", id)
	if miss := inOrder(events,
		[2]string{"userdata", "New-SelfSignedCertificate"},
		[2]string{"script", `role: $Env:IMAGE_ROLE`},
		[2]string{"elevated", "Administrator"},
		[2]string{"script", "Install-WindowsFeature -Name Web-Server"},
		[2]string{"restart", ""},
		[2]string{"command", "restarted."},
		[2]string{"file", `imgbuild\motd.txt`},
		[2]string{"script", `type C:\imgbuild\motd.txt`},
		[2]string{"sysprep", "ec2launch"},
	); miss != "" {
		t.Errorf("guest log has no %s in order:\n%s", miss, describeEvents(events))
	}
	st := e.cloud.Stats()
	if n := st.Actions["StopInstances"]; n != 0 {
		t.Errorf("StopInstances called %d times; sysprep stops the instance", n)
	}
	if st.Actions["GetPasswordData"] == 0 {
		t.Error("GetPasswordData never called")
	}
	logData, err := os.ReadFile(logPath)
	e.must(err)
	manifest, err := os.ReadFile(filepath.Join(e.dir, "manifest.json"))
	e.must(err)
	for name, data := range map[string]string{"output": out + errOut, "log file": string(logData), "manifest": string(manifest)} {
		if strings.Contains(data, password) {
			t.Errorf("the %s shows the Administrator password", name)
		}
	}
	for _, ev := range events {
		if strings.Contains(ev.Text, password) {
			t.Errorf("the guest log shows the Administrator password: %s %q", ev.Kind, ev.Text)
		}
	}
	var copied string
	for _, im := range e.manifest("manifest.json").Builds[0].Images {
		if im.Region == "eu-west-1" {
			copied = im.ImageID
		}
	}
	if copied == "" {
		t.Fatalf("no image in eu-west-1 in the manifest:\n%s", manifest)
	}
	// The file is on the disk of an instance launched from the copy.
	c := e.winrmLogin("eu-west-1", copied)
	var got bytes.Buffer
	e.must(c.Download(context.Background(), `C:\imgbuild\motd.txt`, &got))
	if want := "Built by imgbuild from Windows Server 2022.\r\n"; got.String() != want {
		t.Errorf("motd.txt on an instance of the copy: %q, want %q", got.String(), want)
	}
}

// winrmLogin launches a Windows instance of image with a new RSA key pair,
// reads its Administrator password with GetPasswordData, and connects to
// it over WinRM as a user would.
func (e *e2e) winrmLogin(region, image string) *winrm.Client {
	t := e.t
	t.Helper()
	ctx := context.Background()
	c := e.ec2(region)
	inst, keyPEM := e.launch(region, image, types.InstanceTypeM5Large, types.KeyTypeRsa, "")
	id := aws.ToString(inst.InstanceId)
	raw, err := ssh.ParseRawPrivateKey(keyPEM)
	e.must(err)
	priv, ok := raw.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("CreateKeyPair gave a %T key, want RSA", raw)
	}
	if p := inst.Platform; !strings.EqualFold(string(p), "windows") {
		t.Fatalf("instance %s of %s has platform %q, want windows", id, image, p)
	}
	var data string
	for deadline := time.Now().Add(time.Minute); data == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		pd, err := c.GetPasswordData(ctx, &ec2.GetPasswordDataInput{InstanceId: aws.String(id)})
		e.must(err)
		data = aws.ToString(pd.PasswordData)
	}
	if data == "" {
		t.Fatalf("instance %s of %s in %s has no password data after a minute", id, image, region)
	}
	ct, err := base64.StdEncoding.DecodeString(data)
	e.must(err)
	//lint:ignore SA1019 the format EC2 uses for Windows passwords.
	pw, err := rsa.DecryptPKCS1v15(rand.Reader, priv, ct)
	e.must(err)
	host := aws.ToString(inst.PublicIpAddress)
	client, err := winrm.Connect(ctx, winrm.Options{Host: host, Port: 5986, User: "Administrator", Password: string(pw),
		HTTPS: true, Insecure: true, NTLM: true, Timeout: time.Minute})
	if err != nil {
		t.Fatalf("winrm Administrator@%s:5986 (instance %s of %s in %s): %v", host, id, image, region, err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// windowsFailureTemplate builds from the catalogue's Windows Server 2022
// with the password from user data; body is the build block's content.
func windowsFailureTemplate(source, body string) string {
	return `
source "amazon-ebs" "win" {
  region         = "us-east-1"
  instance_type  = "m5.large"
  ami_name       = "win-fail-{{timestamp}}"
  source_ami_filter {
    filters     = { name = "Windows_Server-2022-English-Full-Base-*" }
    owners      = ["amazon"]
    most_recent = true
  }
  communicator   = "winrm"
  winrm_username = "Administrator"
  user_data      = "<powershell>\nnet user Administrator Corr3ct-Horse!\n</powershell>\n"
` + source + `
}

build {
  sources = ["source.amazon-ebs.win"]
` + body + `
}
`
}

// TestWindowsFailures: a script that exits non-zero fails the build and
// everything is cleaned up; a Sysprep that never stops the instance times
// out naming the instance, its state and what to check; a wrong password
// is an authentication error, not a wait until winrm_timeout.
func TestWindowsFailures(t *testing.T) {
	t.Parallel()
	t.Run("script fails", func(t *testing.T) {
		e := newE2E(t, "instant", "fail-commands=*exit-with-failure*")
		e.write(map[string]string{"main.pkr.hcl": windowsFailureTemplate(`  winrm_password = "Corr3ct-Horse!"`, `
  provisioner "powershell" {
    inline = ["Write-Output before", "exit-with-failure"]
  }
  provisioner "powershell" {
    inline = ["Write-Output never-runs"]
  }`)})
		code, out, errOut := e.imgbuild("build", e.dir)
		if code == 0 {
			t.Fatalf("build succeeded:\n%s", out)
		}
		all := out + errOut
		for _, want := range []string{"provisioner powershell", "exited with status 1"} {
			if !strings.Contains(all, want) {
				t.Errorf("the failure does not say %q:\n%s", want, all)
			}
		}
		id := buildInstance(t, out)
		for _, ev := range e.guestLog("us-east-1", id) {
			if strings.Contains(ev.Text, "never-runs") {
				t.Error("the provisioner after the failing one ran")
			}
		}
		runID := runIDFrom(t, out)
		if left := e.runResources("us-east-1", runID); len(left) > 0 {
			t.Errorf("left behind after the failure: %v", left)
		}
	})
	t.Run("sysprep never stops", func(t *testing.T) {
		e := newE2E(t, "instant", "sysprep=1h")
		e.write(map[string]string{"main.pkr.hcl": windowsFailureTemplate(`  winrm_password = "Corr3ct-Horse!"
  timeouts {
    instance_stopped = "3s"
  }`, `
  provisioner "sysprep" {}`)})
		code, out, errOut := e.imgbuild("build", e.dir)
		if code == 0 {
			t.Fatalf("build succeeded:\n%s", out)
		}
		id := buildInstance(t, out)
		all := out + errOut
		for _, want := range []string{"instance " + id + " in us-east-1 did not stop by itself", "still running", "agent.log", "get-console-output"} {
			if !strings.Contains(all, want) {
				t.Errorf("the failure does not say %q:\n%s", want, all)
			}
		}
		if n := e.cloud.Stats().Actions["StopInstances"]; n != 0 {
			t.Errorf("StopInstances called %d times", n)
		}
		if left := e.runResources("us-east-1", runIDFrom(t, out)); len(left) > 0 {
			t.Errorf("left behind after the failure: %v", left)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		e := newE2E(t, "instant")
		e.write(map[string]string{"main.pkr.hcl": windowsFailureTemplate(`  winrm_password = "not-the-password"
  winrm_timeout  = "10m"`, `
  provisioner "powershell" {
    inline = ["Write-Output hello"]
  }`)})
		code, out, errOut := e.imgbuild("build", e.dir)
		if code == 0 {
			t.Fatalf("build succeeded:\n%s", out)
		}
		all := out + errOut
		if !strings.Contains(all, "authentication failed") || strings.Contains(all, "timed out") {
			t.Errorf("a wrong password is not an authentication error:\n%s", all)
		}
		if strings.Contains(all, "not-the-password") {
			t.Error("the output shows winrm_password")
		}
		if left := e.runResources("us-east-1", runIDFrom(t, out)); len(left) > 0 {
			t.Errorf("left behind after the failure: %v", left)
		}
	})
}
