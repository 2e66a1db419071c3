package main

import (
	"bufio"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// windowsInstanceTemplate is an amazon-instance build of Windows Server
// 2022, bundled by EC2 (BundleInstance).
const windowsInstanceTemplate = `
source "amazon-instance" "win" {
  region         = "us-east-1"
  instance_type  = "m3.medium"
  ami_name       = "win-store-{{timestamp}}"
  source_ami_filter {
    filters     = { name = "Windows_Server-2022-English-Full-Base-*" }
    owners      = ["amazon"]
    most_recent = true
  }
  communicator   = "winrm"
  winrm_username = "Administrator"
  winrm_password = "Corr3ct-Horse!"
  user_data      = "<powershell>\nnet user Administrator Corr3ct-Horse!\n</powershell>\n"
  account_id     = "123456789012"
  s3_bucket      = "win-bundles"
  bundle_prefix  = "win-{{timestamp}}"
  x509_cert_path = "user.crt"
  x509_key_path  = "user.key"
}
build {
  sources = ["source.amazon-instance.win"]
  provisioner "powershell" {
    inline = ["Write-Output configured"]
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
}
`

var bundleTaskID = regexp.MustCompile(`bundle task (bun-[0-9a-z]+)`)

func (e *e2e) windowsInstanceFiles() {
	e.t.Helper()
	cert, key := userCertificate(e.t)
	e.write(map[string]string{"main.pkr.hcl": windowsInstanceTemplate, "user.crt": cert, "user.key": key})
}

// TestWindowsInstanceStoreImage: a Windows amazon-instance template goes
// through BundleInstance, its states and rising progress shown, with
// AWS's legacy warning, and ends registered as an instance-store Windows
// image.
func TestWindowsInstanceStoreImage(t *testing.T) {
	e := newE2E(t, "instant", "bundle=10s")
	e.windowsInstanceFiles()
	code, out, errOut := e.imgbuild("build", e.dir)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"BundleInstance as legacy", ": pending", ": bundling", ": storing", ": complete"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, localSecret) {
		t.Errorf("the secret key is in the output")
	}
	image := e.manifest("manifest.json").Builds[0].Images[0].ImageID
	desc, err := e.ec2("us-east-1").DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{image}})
	e.must(err)
	img := desc.Images[0]
	if img.RootDeviceType != types.DeviceTypeInstanceStore || !strings.EqualFold(string(img.Platform), "windows") ||
		!strings.HasPrefix(aws.ToString(img.ImageLocation), "win-bundles/win-") {
		t.Errorf("image: root %s, platform %s, location %s", img.RootDeviceType, img.Platform, aws.ToString(img.ImageLocation))
	}
}

// localSecret is the local cloud's secret key, which signs the upload
// policy and must never be printed.
const localSecret = "testing"

// TestWindowsInstanceStoreInterrupt: Ctrl-C while EC2 bundles cancels the
// bundle task, and the cleanup leaves nothing: no instance, no image, no
// object of the bundle.
func TestWindowsInstanceStoreInterrupt(t *testing.T) {
	e := newE2E(t, "instant", "bundle=60s")
	e.windowsInstanceFiles()
	code, out := e.buildUntil(": bundling")
	if code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, out)
	}
	m := bundleTaskID.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no bundle task in the output:\n%s", out)
	}
	if !strings.Contains(out, "cancelled bundle task "+m[1]) {
		t.Errorf("the cancel is not reported:\n%s", out)
	}
	ctx := context.Background()
	tasks, err := e.ec2("us-east-1").DescribeBundleTasks(ctx, &ec2.DescribeBundleTasksInput{BundleIds: []string{m[1]}})
	e.must(err)
	if st := tasks.BundleTasks[0].State; st != types.BundleTaskStateCancelling && st != types.BundleTaskStateFailed {
		t.Errorf("bundle task %s is %s after the interrupt", m[1], st)
	}
	runID := runIDFrom(t, out)
	if left := e.runResources("us-east-1", runID); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	objs, err := e.s3().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("win-bundles")})
	e.must(err)
	if len(objs.Contents) > 0 {
		t.Errorf("objects left in the bucket: %d, first %s", len(objs.Contents), aws.ToString(objs.Contents[0].Key))
	}
}

// TestWindowsInstanceStoreTemporaryCredentials: temporary (STS)
// credentials cannot sign BundleInstance's upload policy, which is said
// before anything is created.
func TestWindowsInstanceStoreTemporaryCredentials(t *testing.T) {
	e := newE2E(t, "instant")
	e.windowsInstanceFiles()
	e.env = append(e.env, "AWS_SESSION_TOKEN=FwoGZXIvYXdzEXAMPLE")
	code, out, errOut := e.imgbuild("build", e.dir)
	if code == 0 {
		t.Fatalf("build succeeded:\n%s", out)
	}
	if !strings.Contains(out+errOut, "temporary (STS) credentials") {
		t.Errorf("no word of the temporary credentials:\n%s\n%s", out, errOut)
	}
	if strings.Contains(out, "launch") && strings.Contains(out, "launched in") {
		t.Errorf("an instance was launched:\n%s", out)
	}
	runID := runIDFrom(t, out)
	if left := e.runResources("us-east-1", runID); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestWindowsInstanceStoreCrashCleanup: the build is killed (SIGKILL)
// while EC2 bundles; `imgbuild cleanup` then cancels the bundle task from
// the journal and removes the instance and everything else the run made.
func TestWindowsInstanceStoreCrashCleanup(t *testing.T) {
	e := newE2E(t, "instant", "bundle=60s")
	e.windowsInstanceFiles()
	cmd := e.command("build", e.dir)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	e.must(cmd.Start())
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	go func() { _ = cmd.Wait(); pw.Close() }()
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), ": bundling") {
			_ = cmd.Process.Kill()
		}
	}
	m := bundleTaskID.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no bundle task in the output:\n%s", out.String())
	}
	runID := runIDFrom(t, out.String())
	code, cout, cerr := e.imgbuild("cleanup", "--run", runID)
	if code != 0 {
		t.Fatalf("cleanup: exit %d\n%s\n%s", code, cout, cerr)
	}
	tasks, err := e.ec2("us-east-1").DescribeBundleTasks(context.Background(), &ec2.DescribeBundleTasksInput{BundleIds: []string{m[1]}})
	e.must(err)
	if st := tasks.BundleTasks[0].State; st != types.BundleTaskStateCancelling && st != types.BundleTaskStateFailed {
		t.Errorf("bundle task %s is %s after the cleanup\n%s", m[1], st, cout)
	}
	if left := e.runResources("us-east-1", runID); len(left) > 0 {
		t.Errorf("left behind: %v\n%s", left, cout)
	}
}

// TestWindowsInstanceStoreTaskFails: a bundle task that fails is reported
// with its error code and message, and the build leaves nothing.
func TestWindowsInstanceStoreTaskFails(t *testing.T) {
	e := newE2E(t, "instant", "fail-bundles=win-*")
	e.windowsInstanceFiles()
	code, out, errOut := e.imgbuild("build", e.dir)
	if code == 0 {
		t.Fatalf("build succeeded:\n%s", out)
	}
	for _, want := range []string{"failed: Server.InternalError", "cleanup deletes what it wrote"} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, out, errOut)
		}
	}
	runID := runIDFrom(t, out)
	if left := e.runResources("us-east-1", runID); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
