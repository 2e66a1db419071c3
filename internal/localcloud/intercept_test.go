package localcloud_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestInterceptor: the interceptor sees each request with its count in
// both phases; Fail answers with UnauthorizedOperation (before or after
// the action took effect) and Drop closes the connection.
func TestInterceptor(t *testing.T) {
	s, _ := localcloud.ProfileSettings(localcloud.Instant)
	var mu sync.Mutex
	var seen []string
	cloud := testenv.LocalCloudWith(t, localcloud.Options{Settings: s, Intercept: func(r localcloud.Request, p localcloud.Phase) localcloud.Verdict {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r.Action)
		switch {
		case r.Action == "CreateKeyPair" && r.N == 1 && p == localcloud.BeforeForward:
			return localcloud.Fail
		case r.Action == "CreateKeyPair" && r.N == 2 && p == localcloud.AfterResponse:
			return localcloud.Fail
		case r.Action == "CreateKeyPair" && r.N == 3 && p == localcloud.BeforeForward:
			return localcloud.Drop
		}
		return localcloud.Continue
	}})
	cfg := testenv.AWSConfig(cloud.URL(), "us-east-1")
	cfg.Retryer = func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }
	c := ec2.NewFromConfig(cfg)
	ctx := context.Background()
	create := func(name string) error {
		_, err := c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String(name)})
		return err
	}
	if err := create("one"); awsapi.ErrorCode(err) != "UnauthorizedOperation" {
		t.Fatalf("first CreateKeyPair: %v, want UnauthorizedOperation", err)
	}
	if err := create("two"); awsapi.ErrorCode(err) != "UnauthorizedOperation" {
		t.Fatalf("second CreateKeyPair: %v, want UnauthorizedOperation", err)
	}
	if err := create("three"); err == nil || awsapi.ErrorCode(err) != "" {
		t.Fatalf("third CreateKeyPair: %v, want a transport error", err)
	}
	out, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range out.KeyPairs {
		names = append(names, aws.ToString(k.KeyName))
	}
	if len(names) != 1 || names[0] != "two" {
		t.Errorf("key pairs %v: want only \"two\" (failed after it took effect)", names)
	}
}
