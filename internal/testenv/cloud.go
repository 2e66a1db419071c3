package testenv

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/imgbuild/imgbuild/internal/localcloud"
)

// LocalCloud starts a local cloud with the given settings for the test and
// stops it (every process, by PID) in t.Cleanup. It requires moto, and root
// and debootstrap when s.SSH (guests) is set.
func LocalCloud(t testing.TB, s localcloud.Settings) *localcloud.Cloud {
	t.Helper()
	return LocalCloudWith(t, localcloud.Options{Settings: s})
}

// LocalCloudWith is LocalCloud with every option (an interceptor, say).
func LocalCloudWith(t testing.TB, opts localcloud.Options) *localcloud.Cloud {
	t.Helper()
	Require(t, Moto)
	if opts.Settings.SSH {
		Require(t, Root, Debootstrap)
	}
	if opts.Logger == nil {
		opts.Logger = Logger(t)
	}
	c, err := localcloud.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("start local cloud: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("stop local cloud: %v", err)
		}
	})
	return c
}

// AWSConfig returns an SDK configuration for region pointed at endpoint
// with static test credentials and the SDK's standard retryer.
func AWSConfig(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	}
}

// PlainMoto starts a moto_server without the realism layer for a test and
// stops it (by PID) in t.Cleanup. It returns the endpoint URL.
func PlainMoto(t testing.TB) string {
	t.Helper()
	Require(t, Moto)
	m, err := localcloud.StartMoto(context.Background(), Logger(t))
	if err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("stop moto_server: %v", err)
		}
	})
	return m.URL()
}
