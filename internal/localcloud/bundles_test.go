package localcloud_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/communicator/winrm"
	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// uploadPolicy is BundleInstance's S3 upload policy document.
type uploadPolicy struct {
	Expiration string `json:"expiration"`
	Conditions []any  `json:"conditions"`
}

// policyFor returns the policy a client writes for bucket and prefix,
// valid for 12 hours.
func policyFor(bucket, prefix string) uploadPolicy {
	return uploadPolicy{Expiration: time.Now().Add(12 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"),
		Conditions: []any{map[string]string{"bucket": bucket}, map[string]string{"acl": "ec2-bundle-read"},
			[]string{"starts-with", "$key", prefix}}}
}

// storage signs policy with secret (base64 HMAC-SHA1 of the base64
// document) for BundleInstance. The SDK base64-encodes UploadPolicy.
func storage(t *testing.T, bucket, prefix, accessKey, secret string, policy any) *types.Storage {
	t.Helper()
	doc, ok := policy.([]byte)
	if !ok {
		var err error
		if doc, err = json.Marshal(policy); err != nil {
			t.Fatal(err)
		}
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(base64.StdEncoding.EncodeToString(doc)))
	return &types.Storage{S3: &types.S3Storage{Bucket: aws.String(bucket), Prefix: aws.String(prefix), AWSAccessKeyId: aws.String(accessKey),
		UploadPolicy: doc, UploadPolicySignature: aws.String(base64.StdEncoding.EncodeToString(mac.Sum(nil)))}}
}

func goodStorage(t *testing.T, bucket, prefix string) *types.Storage {
	return storage(t, bucket, prefix, localcloud.AccessKeyID, localcloud.SecretAccessKey, policyFor(bucket, prefix))
}

// windowsImage returns the catalogue's latest Windows Server 2022.
func windowsImage(t *testing.T, c *ec2.Client) string {
	t.Helper()
	images := lookup(t, c, []string{"amazon"}, "Windows_Server-2022-English-Full-Base-*")
	if len(images) == 0 {
		t.Fatal("no Windows Server 2022 image")
	}
	return aws.ToString(images[0].ImageId)
}

// runningWindows launches a Windows instance and waits until it runs.
func runningWindows(t *testing.T, c *ec2.Client, key string) string {
	t.Helper()
	id := runFrom(t, c, windowsImage(t, c), key, "")
	eventually(t, id+" running", func() bool { return instanceState(t, c, id) == types.InstanceStateNameRunning })
	return id
}

func bundleTask(t *testing.T, c *ec2.Client, id string) types.BundleTask {
	t.Helper()
	out, err := c.DescribeBundleTasks(context.Background(), &ec2.DescribeBundleTasksInput{BundleIds: []string{id}})
	if err != nil || len(out.BundleTasks) != 1 {
		t.Fatalf("describe bundle task %s: %v", id, err)
	}
	return out.BundleTasks[0]
}

// TestBundleInstance runs the BundleInstance tests that need no guest on
// one cloud: the instances' Windows guests are simulated by none (their
// disk is empty). A bundle takes at least 2s; prefixes doomed-* fail.
func TestBundleInstance(t *testing.T) {
	t.Parallel()
	s := fast()
	s.Bundle, s.Stop, s.Boot, s.FailBundles = 2*time.Second, 600*time.Millisecond, 300*time.Millisecond, "doomed-*"
	cloud := testenv.LocalCloud(t, s)
	for name, test := range map[string]func(*testing.T, *localcloud.Cloud){
		"refusals":        testBundleInstanceRefusals,
		"states":          testBundleInstanceStates,
		"cancel and fail": testBundleInstanceCancelAndFail,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, cloud)
		})
	}
}

// testBundleInstanceRefusals: BundleInstance checks the upload policy
// (expiration, bucket, acl, key prefix) and its signature with the secret
// key of the access key it names, and refuses Linux instances, missing
// parameters and unknown instances; no task is made.
func testBundleInstanceRefusals(t *testing.T, cloud *localcloud.Cloud) {
	c := client(cloud, "us-east-1", 1)
	win := runningWindows(t, c, "")
	linux, _ := launch(t, c, "")
	eventually(t, "linux running", func() bool { return instanceState(t, c, linux) == types.InstanceStateNameRunning })
	key, secret := localcloud.AccessKeyID, localcloud.SecretAccessKey
	expired := policyFor("bkt", "img")
	expired.Expiration = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	otherBucket, noACL, otherACL, otherPrefix := policyFor("other", "img"), policyFor("bkt", "img"), policyFor("bkt", "img"), policyFor("bkt", "other/")
	noACL.Conditions = noACL.Conditions[:1]
	otherACL.Conditions[1] = map[string]string{"acl": "private"}

	for name, tc := range map[string]struct {
		instance string
		storage  *types.Storage
		code     string
		message  string
	}{
		"bad signature":   {win, storage(t, "bkt", "img", key, "not-the-secret", policyFor("bkt", "img")), "SignatureDoesNotMatch", "signature we calculated does not match"},
		"unknown key":     {win, storage(t, "bkt", "img", "AKIAOTHER", secret, policyFor("bkt", "img")), "InvalidClientTokenId", "AKIAOTHER"},
		"expired":         {win, storage(t, "bkt", "img", key, secret, expired), "InvalidParameterValue", "Policy expired"},
		"other bucket":    {win, storage(t, "bkt", "img", key, secret, otherBucket), "InvalidParameterValue", `Policy Condition failed: {"bucket":"other"}`},
		"no acl":          {win, storage(t, "bkt", "img", key, secret, noACL), "InvalidParameterValue", "no acl condition"},
		"other acl":       {win, storage(t, "bkt", "img", key, secret, otherACL), "InvalidParameterValue", `{"acl":"private"}`},
		"other prefix":    {win, storage(t, "bkt", "img", key, secret, otherPrefix), "InvalidParameterValue", `["starts-with","$key","other/"]`},
		"not json":        {win, storage(t, "bkt", "img", key, secret, []byte("expiration: never")), "InvalidParameterValue", "not a JSON document"},
		"linux":           {linux, goodStorage(t, "bkt", "img"), "InvalidInstanceType", "only Windows instances can be bundled"},
		"no such":         {"i-0123456789abcdef0", goodStorage(t, "bkt", "img"), "InvalidInstanceID.NotFound", "i-0123456789abcdef0"},
		"missing bucket":  {win, &types.Storage{S3: &types.S3Storage{Prefix: aws.String("img")}}, "MissingParameter", "Storage.S3"},
		"missing storage": {win, &types.Storage{}, "MissingParameter", "Storage.S3"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.BundleInstance(context.Background(), &ec2.BundleInstanceInput{InstanceId: aws.String(tc.instance), Storage: tc.storage})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code || !strings.Contains(ae.ErrorMessage(), tc.message) {
				t.Errorf("BundleInstance: %v, want %s saying %q", err, tc.code, tc.message)
			}
		})
	}
	out, err := c.DescribeBundleTasks(context.Background(), &ec2.DescribeBundleTasksInput{Filters: parseFilters("instance-id=" + win)})
	if err != nil || len(out.BundleTasks) != 0 {
		t.Errorf("bundle tasks after the refusals: %v, %d, want none", err, len(out.BundleTasks))
	}
}

// testBundleInstanceStates follows a task: pending, waiting-for-shutdown
// (the instance stops), bundling and storing with rising progress,
// complete (the instance runs again); the manifest it stored registers as
// a Windows instance-store image. DescribeBundleTasks filters; a second
// task for the instance is refused while one runs; a complete task
// cannot be cancelled.
func testBundleInstanceStates(t *testing.T, cloud *localcloud.Cloud) {
	c := client(cloud, "us-east-1", 1)
	ctx := context.Background()
	win := runningWindows(t, c, "")
	out, err := c.BundleInstance(ctx, &ec2.BundleInstanceInput{InstanceId: aws.String(win), Storage: goodStorage(t, "win-bundles", "images/win-1")})
	if err != nil {
		t.Fatal(err)
	}
	task := *out.BundleTask
	if task.State != types.BundleTaskStatePending || aws.ToString(task.Progress) != "0%" || !strings.HasPrefix(aws.ToString(task.BundleId), "bun-") ||
		aws.ToString(task.Storage.S3.Bucket) != "win-bundles" || aws.ToString(task.Storage.S3.Prefix) != "images/win-1" {
		t.Errorf("BundleInstance answered %+v", task)
	}
	id := aws.ToString(task.BundleId)
	_, err = c.BundleInstance(ctx, &ec2.BundleInstanceInput{InstanceId: aws.String(win), Storage: goodStorage(t, "win-bundles", "images/win-2")})
	if errorCode(err) != "BundlingInProgress" {
		t.Errorf("a second BundleInstance: %v, want BundlingInProgress", err)
	}

	states := []types.BundleTaskState{task.State}
	var progress []string
	sawStopped := false
	deadline := time.Now().Add(20 * time.Second)
	for task = bundleTask(t, c, id); task.State != types.BundleTaskStateComplete; task = bundleTask(t, c, id) {
		if task.State == types.BundleTaskStateFailed || time.Now().After(deadline) {
			t.Fatalf("task %s: %s %+v after %v", id, task.State, task.BundleTaskError, states)
		}
		if len(states) == 0 || states[len(states)-1] != task.State {
			states = append(states, task.State)
		}
		progress = append(progress, aws.ToString(task.Progress))
		if task.State == types.BundleTaskStateBundling && !sawStopped {
			sawStopped = instanceState(t, c, win) == types.InstanceStateNameStopped
		}
		time.Sleep(40 * time.Millisecond)
	}
	want := []types.BundleTaskState{"pending", "waiting-for-shutdown", "bundling", "storing"}
	if fmt.Sprint(states) != fmt.Sprint(want) || !sawStopped {
		t.Errorf("states %v (instance stopped while bundling: %v), want %v", states, sawStopped, want)
	}
	if !risingProgress(progress) || aws.ToString(task.Progress) != "100%" {
		t.Errorf("progress %v then %s, want rising to 100%%", progress, aws.ToString(task.Progress))
	}
	eventually(t, "instance running again", func() bool { return instanceState(t, c, win) == types.InstanceStateNameRunning })

	for filters, want := range map[string]int{
		"state=complete s3-prefix=images/* instance-id=" + win: 1,
		"bundle-id=" + id + " progress=100%":                   1,
		"state=failed instance-id=" + win:                      0,
		"s3-bucket=other":                                      0,
	} {
		got, err := c.DescribeBundleTasks(ctx, &ec2.DescribeBundleTasksInput{Filters: parseFilters(filters)})
		if err != nil || len(got.BundleTasks) != want {
			t.Errorf("DescribeBundleTasks %s: %v, %d tasks, want %d", filters, err, len(got.BundleTasks), want)
		}
	}
	if _, err := c.DescribeBundleTasks(ctx, &ec2.DescribeBundleTasksInput{BundleIds: []string{"bun-00000000"}}); errorCode(err) != "InvalidBundleID.NotFound" {
		t.Errorf("DescribeBundleTasks of an unknown task: %v", err)
	}
	if _, err := c.CancelBundleTask(ctx, &ec2.CancelBundleTaskInput{BundleId: aws.String(id)}); errorCode(err) != "IncorrectState" {
		t.Errorf("CancelBundleTask of a complete task: %v, want IncorrectState", err)
	}

	image, err := register(c, "win-1", "win-bundles/images/win-1.manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	im := describeImage(t, c, image)
	if im.RootDeviceType != types.DeviceTypeInstanceStore || !strings.EqualFold(string(im.Platform), "windows") {
		t.Errorf("image of the bundle: root device type %s, platform %q", im.RootDeviceType, im.Platform)
	}
	instance := runFrom(t, c, image, "", "")
	if in := describeInstance(t, c, instance); !strings.EqualFold(string(in.Platform), "windows") || in.RootDeviceType != types.DeviceTypeInstanceStore {
		t.Errorf("instance of the bundle's image: platform %q, root device type %s", in.Platform, in.RootDeviceType)
	}
}

// risingProgress reports whether percentages never fall and take more
// than two values.
func risingProgress(ps []string) bool {
	seen, last := map[string]bool{}, -1
	for _, p := range ps {
		var n int
		if _, err := fmt.Sscanf(p, "%d%%", &n); err != nil || n < last {
			return false
		}
		last, seen[p] = n, true
	}
	return len(seen) > 2
}

// testBundleInstanceCancelAndFail: a task cancelled while bundling goes
// cancelling, then failed, and one the fail-bundles glob matches fails;
// either way the instance runs again and no manifest is stored.
func testBundleInstanceCancelAndFail(t *testing.T, cloud *localcloud.Cloud) {
	c, s3c := client(cloud, "us-east-1", 1), s3Client(cloud, "us-east-1")
	ctx := context.Background()
	for _, tc := range []struct{ prefix, code, message string }{
		{"cancelled-1", "Client.Cancelled", "cancelled"},
		{"doomed-1", "Server.InternalError", "fail-bundles"},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			t.Parallel()
			win := runningWindows(t, c, "")
			out, err := c.BundleInstance(ctx, &ec2.BundleInstanceInput{InstanceId: aws.String(win), Storage: goodStorage(t, "ended-bundles", tc.prefix)})
			if err != nil {
				t.Fatal(err)
			}
			id := aws.ToString(out.BundleTask.BundleId)
			if tc.code == "Client.Cancelled" {
				eventually(t, "bundling", func() bool { return bundleTask(t, c, id).State == types.BundleTaskStateBundling })
				got, err := c.CancelBundleTask(ctx, &ec2.CancelBundleTaskInput{BundleId: aws.String(id)})
				if err != nil || got.BundleTask.State != types.BundleTaskStateCancelling {
					t.Fatalf("CancelBundleTask: %v %+v", err, got)
				}
			}
			eventually(t, "task failed", func() bool { return bundleTask(t, c, id).State == types.BundleTaskStateFailed })
			task := bundleTask(t, c, id)
			if e := task.BundleTaskError; e == nil || aws.ToString(e.Code) != tc.code || !strings.Contains(aws.ToString(e.Message), tc.message) {
				t.Errorf("failed task's error %+v, want %s saying %q", e, tc.code, tc.message)
			}
			eventually(t, "instance running again", func() bool { return instanceState(t, c, win) == types.InstanceStateNameRunning })
			_, err = s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("ended-bundles"), Key: aws.String(tc.prefix + ".manifest.xml")})
			if err == nil {
				t.Errorf("a manifest was stored for %s", tc.prefix)
			}
		})
	}
}

// TestBundleInstanceWindowsContent bundles a Windows guest whose disk has
// a file uploaded over WinRM, registers the bundle, and downloads the
// file from an instance of the image.
func TestBundleInstanceWindowsContent(t *testing.T) {
	t.Parallel()
	testenv.Require(t, testenv.Moto, testenv.Root, testenv.Debootstrap)
	cloud := testenv.LocalCloud(t, sshSettings())
	c := client(cloud, "us-east-1", 0)
	ctx := context.Background()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	importKey(t, c, "win", signer)

	source := runningWindows(t, c, "win")
	conn := windowsLogin(t, c, source, rsaKey)
	if err := conn.Upload(ctx, `C:\imgbuild\marker.txt`, strings.NewReader("bundled on Windows\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := c.BundleInstance(ctx, &ec2.BundleInstanceInput{InstanceId: aws.String(source), Storage: goodStorage(t, "win-content", "win")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.BundleTask.BundleId)
	eventually(t, "bundle complete", func() bool { return bundleTask(t, c, id).State == types.BundleTaskStateComplete })
	image, err := register(c, "win", "win-content/win.manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	instance := runFrom(t, c, image, "win", "")
	var got strings.Builder
	if err := windowsLogin(t, c, instance, rsaKey).Download(ctx, `C:\imgbuild\marker.txt`, &got); err != nil || got.String() != "bundled on Windows\r\n" {
		t.Errorf("the marker on an instance of the bundle: %q, %v", got.String(), err)
	}
}

// windowsLogin waits for a Windows instance's password and logs in over
// WinRM as Administrator.
func windowsLogin(t *testing.T, c *ec2.Client, id string, key *rsa.PrivateKey) *winrm.Client {
	t.Helper()
	var data string
	eventually(t, "password data of "+id, func() bool { data = passwordData(t, c, id); return data != "" })
	ct, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 the format EC2 uses for Windows passwords.
	pw, err := rsa.DecryptPKCS1v15(rand.Reader, key, ct)
	if err != nil {
		t.Fatal(err)
	}
	host := aws.ToString(describeInstance(t, c, id).PublicIpAddress)
	conn, err := winrm.Connect(context.Background(), winrm.Options{Host: host, Port: 5986, User: "Administrator", Password: string(pw),
		HTTPS: true, Insecure: true, NTLM: true, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("winrm Administrator@%s: %v", host, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
