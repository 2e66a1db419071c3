package awsapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// fakeAWS answers EC2 and STS Query-protocol requests (and SSM JSON ones)
// with scripted responses, recording every request. It serves both an
// httptest server and, through handlerClient, in-process requests inside a
// synctest bubble.
type fakeAWS struct {
	mu      sync.Mutex
	scripts map[string][]reply
	calls   []call
}

type reply struct {
	status int
	body   string
}

type call struct {
	action, service, region, accessKey, host string
	form                                     map[string][]string
}

func newFake() *fakeAWS {
	f := &fakeAWS{scripts: map[string][]reply{}}
	f.on("GetCallerIdentity", ok(stsIdentity))
	return f
}

// on scripts the replies to action in order; the last one repeats.
func (f *fakeAWS) on(action string, rs ...reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scripts[action] = rs
}

var credScope = regexp.MustCompile(`Credential=([^/]+)/\d+/([^/]+)/([^/]+)/`)

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action := r.FormValue("Action")
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		action = target[strings.LastIndex(target, ".")+1:]
	}
	c := call{action: action, host: r.Host, form: r.PostForm}
	if c.host == "" {
		c.host = r.URL.Host
	}
	if m := credScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		c.accessKey, c.region, c.service = m[1], m[2], m[3]
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	rs := f.scripts[action]
	rep := reply{status: 400, body: ec2Error("InvalidAction", "fake has no script for "+action)}
	if len(rs) > 0 {
		rep = rs[0]
		if len(rs) > 1 {
			f.scripts[action] = rs[1:]
		}
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(rep.status)
	fmt.Fprint(w, rep.body)
}

// callsTo returns the recorded calls of action.
func (f *fakeAWS) callsTo(action string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.action == action {
			out = append(out, c)
		}
	}
	return out
}

// handlerClient sends SDK requests straight to an http.Handler: no sockets,
// no goroutines, so it works inside a synctest bubble.
type handlerClient struct{ h http.Handler }

func (c handlerClient) Do(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func ok(body string) reply { return reply{status: 200, body: body} }

func fail(status int, code, msg string) reply {
	return reply{status: status, body: ec2Error(code, msg)}
}

func ec2Error(code, msg string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>` + code +
		`</Code><Message>` + msg + `</Message></Error></Errors><RequestID>req-1</RequestID></Response>`
}

func stsError(code, msg string) reply {
	return reply{status: 403, body: `<ErrorResponse><Error><Type>Sender</Type><Code>` + code +
		`</Code><Message>` + msg + `</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`}
}

const stsIdentity = `<GetCallerIdentityResponse><GetCallerIdentityResult>
<Arn>arn:aws:iam::123456789012:user/builder</Arn><UserId>AIDA</UserId><Account>123456789012</Account>
</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`

const stsAssumed = `<AssumeRoleResponse><AssumeRoleResult><Credentials>
<AccessKeyId>ASIAASSUMED</AccessKeyId><SecretAccessKey>assumedsecret</SecretAccessKey>
<SessionToken>assumedtoken</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`

func describeImages(id, state string) string {
	return `<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>` +
		`<imagesSet><item><imageId>` + id + `</imageId><imageState>` + state + `</imageState></item></imagesSet>` +
		`</DescribeImagesResponse>`
}

const createTagsOK = `<CreateTagsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">` +
	`<requestId>r</requestId><return>true</return></CreateTagsResponse>`

// isolateEnv removes the host's AWS settings for the test: no AWS_*
// variables, no shared config or credentials files, no instance metadata.
func isolateEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, v)
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// testAccess is static-credential access to region eu-west-1.
func testAccess() Access {
	return Access{Region: "eu-west-1", AccessKey: "AKIDTESTKEY", SecretKey: "s3cr3tKeyValue"}
}

// inProcessSession returns a Session whose requests go to f in-process, with
// its own Limiter.
func inProcessSession(t *testing.T, f *fakeAWS, a Access, opts ...Option) *Session {
	t.Helper()
	opts = append([]Option{WithHTTPClient(handlerClient{f}), WithLimiter(NewLimiter())}, opts...)
	s, err := NewSession(context.Background(), a, opts...)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	return s
}
