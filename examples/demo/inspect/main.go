// Command inspect launches an instance from the image a build wrote to a
// manifest, in one region, as a user would (EC2 API, a new key pair, user
// data), logs in over SSH and prints what it finds; then it terminates the
// instance and deletes the key pair. `make demo` runs it on the local cloud
// after the build; it works the same against AWS (standard credential
// chain and AWS_ENDPOINT_URL).
//
//	go run ./examples/demo/inspect MANIFEST REGION
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"
)

// userData runs at the instance's first boot.
const userData = `#cloud-config
runcmd:
  - echo "user data ran at first boot of $(hostname)" > /var/tmp/first-boot
`

// checks are the commands run on the instance, with what they show.
var checks = []struct{ what, cmd string }{
	{"first boot", "cloud-init status --wait | tail -n 1"},
	{"user data", "cat /var/tmp/first-boot"},
	{"provisioned", "cat /etc/imgbuild-demo"},
	{"package", "tree --version"},
	{"system", ". /etc/os-release; echo $PRETTY_NAME"},
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: inspect MANIFEST REGION")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := inspect(ctx, os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "inspect:", err)
		os.Exit(1)
	}
}

func inspect(ctx context.Context, manifest, region string) error {
	image, err := imageIn(manifest, region)
	if err != nil {
		return err
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return err
	}
	c := ec2.NewFromConfig(cfg)
	name := fmt.Sprintf("imgbuild-demo-inspect-%d", time.Now().UnixNano())
	kp, err := c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String(name), KeyType: types.KeyTypeEd25519})
	if err != nil {
		return fmt.Errorf("create key pair in %s: %w", region, err)
	}
	defer func() {
		_, _ = c.DeleteKeyPair(context.WithoutCancel(ctx), &ec2.DeleteKeyPairInput{KeyName: aws.String(name)})
	}()
	key, err := ssh.ParsePrivateKey([]byte(aws.ToString(kp.KeyMaterial)))
	if err != nil {
		return err
	}
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(image), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		KeyName: aws.String(name), UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(userData))),
	})
	if err != nil {
		return fmt.Errorf("launch %s in %s: %w", image, region, err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	defer func() {
		_, _ = c.TerminateInstances(context.WithoutCancel(ctx), &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	}()
	desc, err := ec2.NewInstanceRunningWaiter(c, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 5*time.Second
	}).WaitForOutput(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 3*time.Minute)
	if err != nil {
		return fmt.Errorf("wait for %s in %s: %w", id, region, err)
	}
	addr := net.JoinHostPort(aws.ToString(desc.Reservations[0].Instances[0].PublicIpAddress), "22")
	conn, err := dial(ctx, addr, key)
	if err != nil {
		return fmt.Errorf("ssh to %s (%s): %w", id, addr, err)
	}
	defer conn.Close()
	fmt.Printf("Instance %s of %s in %s:\n", id, image, region)
	for _, ch := range checks {
		out, err := output(conn, ch.cmd)
		if err != nil {
			return fmt.Errorf("%s: %s: %w\n%s", id, ch.cmd, err, out)
		}
		fmt.Printf("  %-12s %s\n", ch.what+":", strings.TrimSpace(out))
	}
	return nil
}

// imageIn returns the image the manifest's last build has in region.
func imageIn(manifest, region string) (string, error) {
	b, err := os.ReadFile(manifest)
	if err != nil {
		return "", err
	}
	var m struct {
		Builds []struct {
			Images []struct {
				Region  string `json:"region"`
				ImageID string `json:"image_id"`
			} `json:"images"`
		} `json:"builds"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("read %s: %w", manifest, err)
	}
	if len(m.Builds) == 0 {
		return "", fmt.Errorf("%s lists no build", manifest)
	}
	for _, im := range m.Builds[len(m.Builds)-1].Images {
		if im.Region == region {
			return im.ImageID, nil
		}
	}
	return "", fmt.Errorf("%s has no image in %s", manifest, region)
}

// dial logs in as ec2-user, retrying while the instance's sshd comes up.
// The demo takes the new instance's host key on trust; a careful client
// reads it from the instance's console output first.
func dial(ctx context.Context, addr string, key ssh.Signer) (*ssh.Client, error) {
	cfg := &ssh.ClientConfig{User: "ec2-user", Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second}
	for {
		conn, err := ssh.Dial("tcp", addr, cfg)
		if err == nil {
			return conn, nil
		}
		select {
		case <-ctx.Done():
			return nil, errors.Join(err, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

func output(c *ssh.Client, cmd string) (string, error) {
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return string(out), err
}
