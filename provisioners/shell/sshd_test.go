package shell

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/communicator/ssh"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/internal/sshd"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// sshComm adapts the SSH client to provision.Communicator, as builders do.
type sshComm struct{ *ssh.Client }

func (c sshComm) Run(ctx context.Context, cmd *provision.Cmd) (int, error) {
	return c.Client.Run(ctx, ssh.Cmd{Command: cmd.Command, Stdin: cmd.Stdin, Stdout: cmd.Stdout, Stderr: cmd.Stderr})
}

// leakScript lists the command line of every process on the instance
// (its own parent shells included) and says whether TOKEN's value is in
// one; case is a shell builtin, so the check itself adds no command line.
var leakScript = []string{
	`all=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ')`,
	`case "$all" in *"$TOKEN"*) echo "token on a command line" ;; *) echo "token on no command line" ;; esac`,
	`printf 'seen=%s|%s\n' "$TOKEN" "$TRICKY"`,
}

// TestEnvironmentOffCommandLineSSHD runs the shell provisioner through a
// real sshd: the script sees the variables while no process on the
// instance has a value on its command line. A control run that puts the
// value on the command line proves the check sees it.
func TestEnvironmentOffCommandLineSSHD(t *testing.T) {
	testenv.Require(t, testenv.SSHD)
	comm, home := startSSHD(t)
	var b [12]byte
	rand.Read(b[:])
	token := "tok" + hex.EncodeToString(b[:])
	tests := []struct {
		name, exec string
		wantLine   string
	}{
		{"default", "", "token on no command line"},
		{"control: value on the command line", "chmod +x {{.Path}}; . {{.EnvVarFile}} && TOKEN=" + token + " {{.Path}}", "token on a command line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{ExecuteCommand: tt.exec, RemoteFolder: home}
			c.Inline = leakScript
			c.Env.Env = map[string]string{"TOKEN": token, "TRICKY": secret}
			ctx := &check.Context{}
			c.Prepare(ctx)
			if ctx.HasErrors() {
				t.Fatal(ctx.Diags)
			}
			var out bytes.Buffer
			env := &provision.Env{Comm: comm, Out: &out, BuildName: "b", BuilderType: "amazon-ebs"}
			if err := c.Provision(context.Background(), env); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), tt.wantLine+"\n") || !strings.Contains(out.String(), "seen="+token+"|"+secret+"\n") {
				t.Errorf("output %q, want %q and the values seen", out.String(), tt.wantLine)
			}
			if left, _ := os.ReadDir(home); len(left) != 0 {
				t.Errorf("files left on the instance: %v", left)
			}
		})
	}
}

// startSSHD starts OpenSSH on loopback and connects to it; it returns the
// connection and the directory sessions run in.
func startSSHD(t *testing.T) (provision.Communicator, string) {
	t.Helper()
	user := os.Getenv("USER")
	if os.Geteuid() == 0 {
		if err := sshd.EnsureAccounts("ec2-user"); err != nil {
			t.Fatal(err)
		}
		user = "root" // the server runs root logins as ec2-user
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv, err := sshd.Start(context.Background(), sshd.Config{Addr: addr, AuthorizedKeys: []gossh.PublicKey{key.PublicKey()}, Logger: testenv.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	port := l.Addr().(*net.TCPAddr).Port
	c, err := ssh.Connect(context.Background(), ssh.Options{
		Host: "127.0.0.1", Port: port, User: user, Signers: []gossh.Signer{key},
		Timeout: 20 * time.Second, HostKeyCallback: gossh.FixedHostKey(srv.HostKey()),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return sshComm{c}, srv.Home()
}
