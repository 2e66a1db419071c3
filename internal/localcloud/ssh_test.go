package localcloud_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/sshd"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

func sshSettings() localcloud.Settings {
	s := fast()
	s.Boot, s.SSH = 0, true
	return s
}

func sshLogin(addr, user string, key ssh.Signer) (*ssh.Client, error) {
	return ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
	})
}

func output(t *testing.T, c *ssh.Client, cmd string) string {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	if err != nil {
		t.Fatalf("run %q: %v: %s", cmd, err, out)
	}
	return string(out)
}

func TestInstancesAnswerSSHWithLaunchKey(t *testing.T) {
	t.Parallel()
	testenv.Require(t, testenv.Root, testenv.Debootstrap)
	cloud := testenv.LocalCloud(t, sshSettings())
	c := client(cloud, "us-east-1", 0)
	ctx := context.Background()

	kp, err := c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("build"), KeyType: types.KeyTypeEd25519})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.ParsePrivateKey([]byte(aws.ToString(kp.KeyMaterial)))
	if err != nil {
		t.Fatalf("parse CreateKeyPair key material: %v", err)
	}
	id, _ := launch(t, c, "build")
	inst := describeInstance(t, c, id)
	ip := aws.ToString(inst.PublicIpAddress)
	if !strings.HasPrefix(ip, "127.0.") || aws.ToString(inst.PrivateIpAddress) != ip {
		t.Fatalf("instance addresses public %q private %q, want one loopback address", ip, aws.ToString(inst.PrivateIpAddress))
	}
	addr := net.JoinHostPort(ip, "22")
	var conn *ssh.Client
	eventually(t, "ssh ec2-user@"+addr, func() bool { conn, err = sshLogin(addr, "ec2-user", key); return err == nil })
	defer conn.Close()
	out := strings.Fields(output(t, conn, `id -u; pwd; echo "$HOME"; sudo -n id -u`))
	if len(out) != 4 || out[0] == "0" || out[1] != "/home/ec2-user" || out[2] != out[1] || out[3] != "0" {
		t.Errorf("id -u, pwd, $HOME, sudo -n id -u = %q: want ec2-user in /home/ec2-user with passwordless sudo", out)
	}

	fc, err := sftp.NewClient(conn)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fc.Create("provision.sh")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(f, "echo provisioned\n")
	f.Close()
	fc.Close()
	if got := output(t, conn, "sh provision.sh"); got != "provisioned\n" {
		t.Errorf("script uploaded over sftp printed %q", got)
	}

	if _, err := sshLogin(addr, "root", key); err == nil {
		t.Error("root logged in with the launch key (EC2's images refuse it)")
	}
	if _, err := sshLogin(addr, "ec2-user", newSigner(t)); err == nil {
		t.Error("login with another key succeeded")
	}
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sshLogin(addr, "ec2-user", key); err == nil {
		t.Error("terminated instance still answers ssh")
	}
}

func TestImportedKeyPairLogsIn(t *testing.T) {
	t.Parallel()
	testenv.Require(t, testenv.Root, testenv.Debootstrap)
	cloud := testenv.LocalCloud(t, sshSettings())
	c := client(cloud, "us-east-1", 0)
	key := newSigner(t)
	pub := ssh.MarshalAuthorizedKey(key.PublicKey())
	if _, err := c.ImportKeyPair(context.Background(), &ec2.ImportKeyPairInput{KeyName: aws.String("mine"), PublicKeyMaterial: pub}); err != nil {
		t.Fatal(err)
	}
	id, _ := launch(t, c, "mine")
	ip := aws.ToString(describeInstance(t, c, id).PublicIpAddress)
	var conn *ssh.Client
	eventually(t, "ssh ubuntu@"+ip+" with the imported key", func() bool {
		var err error
		conn, err = sshLogin(net.JoinHostPort(ip, "22"), "ubuntu", key)
		return err == nil
	})
	defer conn.Close()
	if got := strings.TrimSpace(output(t, conn, "id -un")); got != "ubuntu" {
		t.Errorf("id -un = %q", got)
	}
}

// TestCloseStopsEverything runs alone (not parallel) with its own TMPDIR so
// that it can check that nothing is left behind.
func TestCloseStopsEverything(t *testing.T) {
	testenv.Require(t, testenv.Moto, testenv.Debootstrap, testenv.Root)
	tmp := t.TempDir()
	if err := os.Chmod(tmp, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	cloud, err := localcloud.Start(context.Background(), localcloud.Options{Settings: sshSettings(), Logger: testenv.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	c := client(cloud, "us-east-1", 0)
	kp, err := c.CreateKeyPair(context.Background(), &ec2.CreateKeyPairInput{KeyName: aws.String("k")})
	if err != nil || kp.KeyMaterial == nil {
		cloud.Close()
		t.Fatalf("create key pair: %v", err)
	}
	id, _ := launch(t, c, "k")
	addr := net.JoinHostPort(aws.ToString(describeInstance(t, c, id).PublicIpAddress), "22")
	eventually(t, "the guest's sshd", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	pids := cloud.PIDs()
	if len(pids) != 2 {
		t.Errorf("PIDs %v: want moto and one guest", pids)
	}
	// The guest's disk is a layer in the cloud's state (TMPDIR).
	if _, err := c.CreateImage(context.Background(), &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("kept")}); err != nil {
		t.Fatal(err)
	}
	if n := diskUse(t, tmp); n == 0 {
		t.Error("no disk used by the instance and its image")
	}
	if err := cloud.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range pids {
		if sshd.ProcessAlive(p) {
			t.Errorf("process %d still running after Close", p)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
	if ms := testenv.MountsUnder(t, tmp); len(ms) != 0 {
		t.Errorf("mounts left: %v", ms)
	}
	if _, err := http.Get(cloud.URL()); err == nil {
		t.Error("endpoint still answers after Close")
	}
}

// diskUse returns the bytes of the regular files under dir.
func diskUse(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
