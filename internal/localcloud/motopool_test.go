package localcloud_test

import (
	"context"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestMotoPoolReusesAResetServer: a cloud started after another closed
// takes the first one's moto_server from the pool, with nothing the first
// cloud's clients made and the catalogue intact; closing the pool stops it.
func TestMotoPoolReusesAResetServer(t *testing.T) {
	testenv.Require(t, testenv.Moto)
	t.Parallel()
	ctx := context.Background()
	pool := &localcloud.MotoPool{}
	start := func() *localcloud.Cloud {
		c, err := localcloud.Start(ctx, localcloud.Options{Settings: fast(), Moto: pool, Logger: testenv.Logger(t)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := start()
	if _, err := client(first, "us-east-1", 0).CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("from-the-first-cloud")}); err != nil {
		t.Fatal(err)
	}
	pid := first.PIDs()[0]
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("moto_server %d stopped with its cloud: %v; want it kept in the pool", pid, err)
	}

	second := start()
	defer second.Close()
	if got := second.PIDs()[0]; got != pid {
		t.Fatalf("second cloud's moto_server is %d, want the pooled %d", got, pid)
	}
	c := client(second, "us-east-1", 0)
	keys, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.KeyPairs) != 0 {
		t.Errorf("the reused server still has %d key pairs, want none after its reset", len(keys.KeyPairs))
	}
	linuxAMI(t, c) // the catalogue survives the reset

	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pool.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("moto_server %d still runs after the pool closed", pid)
	}
}
