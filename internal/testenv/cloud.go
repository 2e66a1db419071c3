package testenv

import (
	"context"
	"fmt"
	"os"
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
	if opts.Moto == nil {
		opts.Moto = motoPool
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

// motoPool, set by RunWithMotoPool, lends moto_servers to the package's
// local clouds.
var motoPool *localcloud.MotoPool

// RunWithMotoPool runs a package's tests (run is testing.M.Run, from
// TestMain) with their local clouds sharing a pool of moto_servers: a
// closed cloud's server is reset and reused by the next one instead of a
// new one being started. After run it stops the pooled servers, by PID.
func RunWithMotoPool(run func() int) int {
	motoPool = &localcloud.MotoPool{}
	code := run()
	if err := motoPool.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "stop the pooled moto_servers: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
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

// LoopbackEndpoint is an EC2 endpoint on loopback that nothing answers
// (port 1). Tests that validate templates written for the local cloud
// set AWS_ENDPOINT_URL to it (WithLoopbackEndpoint) so that the build's
// default source for a temporary security group applies, as it does on
// the local cloud; validate never calls it.
const LoopbackEndpoint = "http://127.0.0.1:1"

// WithLoopbackEndpoint runs a package's tests (run is testing.M.Run, from
// TestMain) with AWS_ENDPOINT_URL set to LoopbackEndpoint unless the
// environment sets it.
func WithLoopbackEndpoint(run func() int) int {
	if os.Getenv("AWS_ENDPOINT_URL") == "" {
		os.Setenv("AWS_ENDPOINT_URL", LoopbackEndpoint)
	}
	return run()
}
