package sweep

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// fakeAWS answers sts GetCallerIdentity with the account named by the
// caller's access key ID (credentials "111122223333"/"x" are account
// 111122223333's), and EC2 DeleteKeyPair and DescribeKeyPairs as if every
// key pair were gone after its deletion. It records the requests.
type fakeAWS struct {
	url string

	mu       sync.Mutex
	requests []string // "Action account [KeyName]"
}

var credentialRe = regexp.MustCompile(`Credential=([^/]+)/`)

// newFakeAWS starts a fakeAWS and points the SDK's endpoints at it.
func newFakeAWS(t *testing.T) *fakeAWS {
	t.Helper()
	f := &fakeAWS{}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "us-east-1")
	return f
}

func (f *fakeAWS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	account := "unsigned"
	if m := credentialRe.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		account = m[1]
	}
	action := form.Get("Action")
	f.mu.Lock()
	f.requests = append(f.requests, fmt.Sprintf("%s %s %s", action, account, form.Get("KeyName")))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	switch action {
	case "GetCallerIdentity":
		fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
			`<Arn>arn:aws:iam::%[1]s:user/test</Arn><UserId>AIDTEST</UserId><Account>%[1]s</Account>`+
			`</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, account)
	case "DeleteKeyPair":
		fmt.Fprint(w, `<DeleteKeyPairResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>1</requestId><return>true</return></DeleteKeyPairResponse>`)
	case "DescribeKeyPairs":
		fmt.Fprint(w, `<DescribeKeyPairsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>1</requestId><keySet/></DescribeKeyPairsResponse>`)
	default:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<Response><Errors><Error><Code>InvalidAction</Code><Message>fake: %s</Message></Error></Errors></Response>`, action)
	}
}

// calls returns the requests of action so far.
func (f *fakeAWS) calls(action string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if a, _, _ := strings.Cut(r, " "); a == action {
			out = append(out, r)
		}
	}
	return out
}

// keys is an access with static credentials for account.
func keys(account string) awsapi.Access {
	return awsapi.Access{Region: "us-east-1", AccessKey: account, SecretKey: "x", SkipMetadataAPICheck: true}
}

// seedRun writes an orphaned run whose builds each created one key pair,
// named after the build, in the account given for it ("" records no
// access, like a run written before format 2).
func seedRun(t *testing.T, dir string, accounts map[string]string, builds ...string) string {
	t.Helper()
	w, err := journal.Create(dir, journal.Header{Template: "web.pkr.hcl", Builds: builds})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, b := range builds {
		if acct := accounts[b]; acct != "" {
			mustDo(t, w.Access(AccessRecord(b, keys(acct), awsapi.Identity{Account: acct})))
		}
		ref, err := w.Intent(journal.Resource{Type: journal.KeyPair, Region: "us-east-1", Build: b, Name: "key-of-" + b})
		mustDo(t, err)
		mustDo(t, w.Created(ref, "key-"+b))
	}
	return w.RunID()
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
