package steps

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// fakeEC2 answers the EC2 Query-protocol calls the image checks make from
// a table of images and snapshots, and records the calls that change
// them. describeHook, when set, runs before each DescribeImages answer.
type fakeEC2 struct {
	mu           sync.Mutex
	images       map[string]*fakeImage
	snapTags     map[string]map[string]string
	calls        []string // "Action form..." of each call
	describeHook func(n int, img *fakeImage)
	describes    int
	said         []string // the build's user lines
	dropPerms    int      // ModifyImageAttribute calls whose launch permissions are dropped
	// callHook, when set, runs (without the lock) before each call is
	// answered, given its action and request.
	callHook func(action string, r *http.Request)
	vpcs     []string // the VPCs DescribeVpcs answers
	groups   []string // the security groups DescribeSecurityGroups answers
}

type fakeImage struct {
	state     string
	snapshots []string
	tags      map[string]string
	perms     []string // "userId=...", "group=all", ...
}

func newFakeEC2() *fakeEC2 {
	return &fakeEC2{images: map[string]*fakeImage{}, snapTags: map[string]map[string]string{}}
}

// Do serves a request in-process.
func (f *fakeEC2) Do(r *http.Request) (*http.Response, error) {
	if f.callHook != nil && r.ParseForm() == nil {
		f.callHook(r.PostForm.Get("Action"), r)
	}
	rec := httptest.NewRecorder()
	f.serve(rec, r)
	return rec.Result(), nil
}

func (f *fakeEC2) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	action := r.PostForm.Get("Action")
	f.calls = append(f.calls, action+" "+r.PostForm.Encode())
	body := f.answer(action, r.PostForm)
	fmt.Fprintf(w, `<%sResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>%s</%sResponse>`, action, body, action)
}

func (f *fakeEC2) answer(action string, form map[string][]string) string {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	switch action {
	case "DescribeImages":
		var b strings.Builder
		for i := 1; get(fmt.Sprintf("Filter.1.Value.%d", i)) != ""; i++ {
			id := get(fmt.Sprintf("Filter.1.Value.%d", i))
			if img, ok := f.images[id]; ok {
				f.describes++
				if f.describeHook != nil {
					f.describeHook(f.describes, img)
				}
				b.WriteString(imageXML(id, img))
			}
		}
		return "<imagesSet>" + b.String() + "</imagesSet>"
	case "DescribeVpcs":
		var b strings.Builder
		for _, id := range f.vpcs {
			fmt.Fprintf(&b, "<item><vpcId>%s</vpcId></item>", id)
		}
		return "<vpcSet>" + b.String() + "</vpcSet>"
	case "DescribeSecurityGroups":
		var b strings.Builder
		for _, id := range f.groups {
			fmt.Fprintf(&b, "<item><groupId>%s</groupId></item>", id)
		}
		return "<securityGroupInfo>" + b.String() + "</securityGroupInfo>"
	case "DescribeSnapshots":
		var b strings.Builder
		for i := 1; get(fmt.Sprintf("SnapshotId.%d", i)) != ""; i++ {
			id := get(fmt.Sprintf("SnapshotId.%d", i))
			fmt.Fprintf(&b, "<item><snapshotId>%s</snapshotId><status>completed</status>%s</item>", id, tagsXML(f.snapTags[id]))
		}
		return "<snapshotSet>" + b.String() + "</snapshotSet>"
	case "CreateTags":
		for i := 1; get(fmt.Sprintf("ResourceId.%d", i)) != ""; i++ {
			id := get(fmt.Sprintf("ResourceId.%d", i))
			for j := 1; get(fmt.Sprintf("Tag.%d.Key", j)) != ""; j++ {
				f.tagsOf(id)[get(fmt.Sprintf("Tag.%d.Key", j))] = get(fmt.Sprintf("Tag.%d.Value", j))
			}
		}
		return "<return>true</return>"
	case "DescribeImageAttribute":
		var b strings.Builder
		for _, p := range f.images[get("ImageId")].perms {
			k, v, _ := strings.Cut(p, "=")
			fmt.Fprintf(&b, "<item><%s>%s</%s></item>", k, v, k)
		}
		return "<imageId>" + get("ImageId") + "</imageId><launchPermission>" + b.String() + "</launchPermission>"
	case "ModifyImageAttribute":
		img := f.images[get("ImageId")]
		if f.dropPerms > 0 {
			f.dropPerms--
			return "<return>true</return>"
		}
		for i := 1; ; i++ {
			p := fmt.Sprintf("LaunchPermission.Add.%d.", i)
			switch {
			case get(p+"UserId") != "":
				img.perms = append(img.perms, "userId="+get(p+"UserId"))
			case get(p+"Group") != "":
				img.perms = append(img.perms, "group="+get(p+"Group"))
			default:
				return "<return>true</return>"
			}
		}
	}
	return ""
}

func (f *fakeEC2) tagsOf(id string) map[string]string {
	if img, ok := f.images[id]; ok {
		return img.tags
	}
	if f.snapTags[id] == nil {
		f.snapTags[id] = map[string]string{}
	}
	return f.snapTags[id]
}

// callsTo returns the recorded calls of action.
func (f *fakeEC2) callsTo(action string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, action+" ") {
			out = append(out, c)
		}
	}
	return out
}

func imageXML(id string, img *fakeImage) string {
	var bdm strings.Builder
	for i, s := range img.snapshots {
		fmt.Fprintf(&bdm, "<item><deviceName>/dev/xvd%c</deviceName><ebs><snapshotId>%s</snapshotId></ebs></item>", 'a'+i, s)
	}
	return fmt.Sprintf("<item><imageId>%s</imageId><imageState>%s</imageState><blockDeviceMapping>%s</blockDeviceMapping>%s</item>",
		id, img.state, bdm.String(), tagsXML(img.tags))
}

func tagsXML(tags map[string]string) string {
	var b strings.Builder
	for k, v := range tags {
		fmt.Fprintf(&b, "<item><key>%s</key><value>%s</value></item>", k, v)
	}
	return "<tagSet>" + b.String() + "</tagSet>"
}

// fakeBuild returns a build of cfg whose AWS calls go to f, journaling to
// a fresh journal, polling every 10 ms.
func fakeBuild(t *testing.T, f *fakeEC2, cfg *Config) *build {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, v)
			os.Unsetenv(k)
		}
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "credentials"))
	sess, err := awsapi.NewSession(context.Background(),
		awsapi.Access{Region: cfg.Region, AccessKey: "AKIDTEST", SecretKey: "secret", SkipCredentialValidation: true},
		awsapi.WithHTTPClient(f), awsapi.WithLimiter(awsapi.NewLimiter()))
	if err != nil {
		t.Fatal(err)
	}
	jw, err := journal.Create(t.TempDir(), journal.Header{Template: "t.pkr.hcl"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = jw.Close() })
	env := &builder.Env{RunID: jw.RunID(), BuildName: "b", Journal: jw, Logger: testenv.Logger(t),
		Say: func(format string, args ...any) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.said = append(f.said, fmt.Sprintf(format, args...))
		}}
	b := newBuild(env, cfg, sess)
	b.timeouts.PollDelay = 10 * time.Millisecond
	return b
}
