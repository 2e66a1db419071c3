package awsapi

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/hashicorp/go-hclog"
)

// fakeServer starts f on a loopback httptest server.
func fakeServer(t *testing.T) (*fakeAWS, string) {
	f := newFake()
	f.on("DescribeImages", ok(describeImages("ami-1", "available")))
	f.on("GetParameter", ok(`{"Parameter":{"Name":"p","Value":"v"}}`))
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func describeIn(t *testing.T, s *Session, region string) {
	t.Helper()
	_, err := s.EC2(region).DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{"ami-1"}})
	if err != nil {
		t.Fatalf("DescribeImages in %s: %v", region, err)
	}
}

func TestEndpointURLForEC2InTwoRegions(t *testing.T) {
	isolateEnv(t)
	f, url := fakeServer(t)
	t.Setenv("AWS_ENDPOINT_URL", url)
	s, err := NewSession(context.Background(), testAccess(), WithLimiter(NewLimiter()))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Identity().Account; got != "123456789012" {
		t.Errorf("account = %q", got)
	}
	describeIn(t, s, "eu-west-1")
	describeIn(t, s, "us-east-1")
	describeIn(t, s, "us-east-1")
	var regions []string
	for _, c := range f.callsTo("DescribeImages") {
		regions = append(regions, c.service+"/"+c.region)
	}
	if got := strings.Join(regions, ","); got != "ec2/eu-west-1,ec2/us-east-1,ec2/us-east-1" {
		t.Errorf("DescribeImages reached the fake as %s", got)
	}
	if n := len(f.callsTo("GetCallerIdentity")); n != 1 {
		t.Errorf("GetCallerIdentity reached the fake %d times, want 1 (STS honours AWS_ENDPOINT_URL)", n)
	}
	first := s.EC2("us-east-1")
	if s.EC2("us-east-1") != first || s.EC2("") != s.EC2("eu-west-1") {
		t.Error("clients are not cached per region")
	}
}

func TestServiceEndpointAndCustomEndpointEC2(t *testing.T) {
	isolateEnv(t)
	global, globalURL := fakeServer(t)
	perService, perServiceURL := fakeServer(t)
	custom, customURL := fakeServer(t)
	t.Setenv("AWS_ENDPOINT_URL", globalURL)
	t.Setenv("AWS_ENDPOINT_URL_EC2", perServiceURL)

	s, err := NewSession(context.Background(), testAccess(), WithLimiter(NewLimiter()))
	if err != nil {
		t.Fatal(err)
	}
	describeIn(t, s, "")
	if len(perService.callsTo("DescribeImages")) != 1 || len(global.callsTo("DescribeImages")) != 0 {
		t.Error("AWS_ENDPOINT_URL_EC2 does not take precedence over AWS_ENDPOINT_URL for EC2")
	}

	a := testAccess()
	a.CustomEndpointEC2 = customURL
	s, err = NewSession(context.Background(), a, WithLimiter(NewLimiter()))
	if err != nil {
		t.Fatal(err)
	}
	describeIn(t, s, "us-west-2")
	if len(custom.callsTo("DescribeImages")) != 1 || len(perService.callsTo("DescribeImages")) != 1 {
		t.Error("CustomEndpointEC2 does not override AWS_ENDPOINT_URL_EC2")
	}
	if _, err := s.SSM("").GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("p")}); err != nil {
		t.Fatalf("GetParameter: %v", err)
	}
	if len(global.callsTo("GetParameter")) != 1 || len(custom.callsTo("GetCallerIdentity")) != 0 {
		t.Error("CustomEndpointEC2 leaked into SSM or STS")
	}
}

func TestCredentialErrorsNeverShowSecrets(t *testing.T) {
	isolateEnv(t)
	a := testAccess()
	a.Token = "sessionTOKENvalue"
	f := newFake()
	// A hostile or buggy endpoint echoing the secrets back.
	f.on("GetCallerIdentity", stsError("InvalidClientTokenId",
		fmt.Sprintf("bad key %s secret %s token %s", a.AccessKey, a.SecretKey, a.Token)))
	var logs strings.Builder
	log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
	_, err := NewSession(context.Background(), a, WithHTTPClient(handlerClient{f}), WithLimiter(NewLimiter()), WithLogger(log))
	if err == nil {
		t.Fatal("NewSession accepted rejected credentials")
	}
	msg := err.Error()
	for _, want := range []string{"validate aws credentials", "static access_key ****TKEY",
		"sts GetCallerIdentity rejected the credentials from StaticCredentials", "InvalidClientTokenId",
		"skip_credential_validation"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if !IsCredentialError(err) {
		t.Errorf("IsCredentialError(%v) = false", err)
	}
	printed := []string{msg, logs.String(), fmt.Sprint(a), fmt.Sprintf("%+v", a), fmt.Sprintf("%#v", a)}
	for _, out := range printed {
		for _, secret := range []string{a.AccessKey, a.SecretKey, a.Token} {
			if strings.Contains(out, secret) {
				t.Errorf("%q shows a secret", out)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	isolateEnv(t)
	tests := []struct {
		name   string
		access Access
		want   []string
	}{
		{"secret without key", Access{Region: "eu-west-1", SecretKey: "s3cr3tKeyValue"},
			[]string{"access_key and secret_key must be set together"}},
		{"unknown profile", Access{Region: "eu-west-1", Profile: "nope", SkipMetadataAPICheck: true},
			[]string{`load aws configuration (profile "nope")`}},
		{"no region", Access{AccessKey: "AKIDTESTKEY", SecretKey: "s3cr3tKeyValue"},
			[]string{"no aws region"}},
		{"nothing found", Access{Region: "eu-west-1", SkipMetadataAPICheck: true},
			[]string{"validate aws credentials (the default credential chain", "AWS_PROFILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSession(context.Background(), tt.access,
				WithHTTPClient(handlerClient{newFake()}), WithLimiter(NewLimiter()))
			for _, want := range tt.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3tKeyValue") {
				t.Errorf("error %q shows the secret key", err)
			}
		})
	}
}

func TestSkipCredentialValidation(t *testing.T) {
	isolateEnv(t)
	f := newFake()
	a := testAccess()
	a.SkipCredentialValidation = true
	if _, err := NewSession(context.Background(), a, WithHTTPClient(handlerClient{f})); err != nil {
		t.Fatal(err)
	}
	if n := len(f.callsTo("GetCallerIdentity")); n != 0 {
		t.Errorf("GetCallerIdentity called %d times with validation skipped", n)
	}
}

func TestAssumeRole(t *testing.T) {
	isolateEnv(t)
	f := newFake()
	f.on("AssumeRole", ok(stsAssumed))
	f.on("DescribeImages", ok(describeImages("ami-1", "available")))
	a := testAccess()
	a.AssumeRole = &AssumeRole{RoleARN: "arn:aws:iam::123456789012:role/build", ExternalID: "ext-1",
		SessionName: "imgbuild", DurationSeconds: 900, Tags: map[string]string{"b": "2", "a": "1"}}
	s := inProcessSession(t, f, a)
	describeIn(t, s, "")

	calls := f.callsTo("AssumeRole")
	if len(calls) != 1 {
		t.Fatalf("AssumeRole called %d times, want 1", len(calls))
	}
	form := calls[0].form
	for k, want := range map[string]string{"RoleArn": a.AssumeRole.RoleARN, "ExternalId": "ext-1",
		"RoleSessionName": "imgbuild", "DurationSeconds": "900", "Tags.member.1.Key": "a"} {
		if got := strings.Join(form[k], ","); got != want {
			t.Errorf("AssumeRole %s = %q, want %q", k, got, want)
		}
	}
	if c := calls[0]; c.accessKey != "AKIDTESTKEY" {
		t.Errorf("AssumeRole signed with %q, want the base credentials", c.accessKey)
	}
	for _, action := range []string{"GetCallerIdentity", "DescribeImages"} {
		if c := f.callsTo(action); len(c) != 1 || c[0].accessKey != "ASIAASSUMED" {
			t.Errorf("%s calls %+v, want one signed with the assumed role's key", action, c)
		}
	}
	if !strings.Contains(a.String(), "assume role arn:aws:iam::123456789012:role/build using static") {
		t.Errorf("Access.String() = %s", a)
	}
}

func TestClientsAreCachedUnderConcurrency(t *testing.T) {
	isolateEnv(t)
	f := newFake()
	a := testAccess()
	a.SkipCredentialValidation = true
	s := inProcessSession(t, f, a)
	regions := []string{"eu-west-1", "us-east-1", "ap-south-1"}
	got := make([][]any, 16)
	var wg sync.WaitGroup
	for g := range got {
		wg.Go(func() {
			for _, r := range regions {
				got[g] = append(got[g], s.EC2(r), s.SSM(r), s.S3(r))
			}
		})
	}
	wg.Wait()
	for g := range got {
		for i := range got[g] {
			if got[g][i] != got[0][i] {
				t.Fatalf("goroutine %d got a different client %d", g, i)
			}
		}
	}
	if s.EC2("eu-west-1").Options().Region != "eu-west-1" || s.S3("ap-south-1").Options().Region != "ap-south-1" {
		t.Error("clients are not bound to their region")
	}
}

// TestEndpointURL: a bare host name is an https endpoint, as the SDK
// Packer is built with takes it; URLs stay as they are.
func TestEndpointURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                                    "",
		"ec2.us-east-1.amazonaws.com":         "https://ec2.us-east-1.amazonaws.com",
		"127.0.0.1:5000":                      "https://127.0.0.1:5000",
		"http://127.0.0.1:5000":               "http://127.0.0.1:5000",
		"https://ec2.us-east-1.amazonaws.com": "https://ec2.us-east-1.amazonaws.com",
	} {
		if got := EndpointURL(in); got != want {
			t.Errorf("EndpointURL(%q) = %q, want %q", in, got, want)
		}
	}
	isolateEnv(t)
	a := testAccess()
	a.CustomEndpointEC2 = "ec2.example.com"
	if s := inProcessSession(t, newFake(), a); s.customEndpoint != "https://ec2.example.com" {
		t.Errorf("session endpoint %q, want https://ec2.example.com", s.customEndpoint)
	}
}
