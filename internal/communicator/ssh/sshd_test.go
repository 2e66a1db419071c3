package ssh

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/testwait"
)

const sshdPath = "/usr/sbin/sshd"

// requireOrSkip skips the test for a missing dependency unless
// IMGBUILD_TEST_REQUIRE names it (or "all"), in which case it fails.
func requireOrSkip(t *testing.T, name, reason, hint string) {
	t.Helper()
	for _, r := range strings.Split(os.Getenv("IMGBUILD_TEST_REQUIRE"), ",") {
		if r = strings.TrimSpace(r); r == name || r == "all" {
			t.Fatalf("%s, and IMGBUILD_TEST_REQUIRE=%s requires it: %s", reason, os.Getenv("IMGBUILD_TEST_REQUIRE"), hint)
		}
	}
	t.Skipf("%s: %s", reason, hint)
}

// startSSHD runs OpenSSH's sshd on a free loopback port with a config of
// its own that authorises clientKey. It returns the port and the host key;
// the server is stopped by its PID when the test ends.
func startSSHD(t *testing.T, clientKey gossh.PublicKey) (int, gossh.PublicKey) {
	if _, err := os.Stat(sshdPath); err != nil {
		requireOrSkip(t, "sshd", sshdPath+" not found", "apt-get install -y openssh-server")
	}
	if os.Geteuid() != 0 {
		requireOrSkip(t, "sshd", "the sshd test logs in as root and must run as root", "run go test as root")
	}
	// sshd refuses to start without its privilege separation directory,
	// which the openssh-server service creates at boot.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(hostPriv, "")
	if err != nil {
		t.Fatal(err)
	}
	hostSigner, err := gossh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "host_key"), string(pem.EncodeToMemory(block)), 0o600)
	writeFile(t, filepath.Join(dir, "authorized_keys"), string(gossh.MarshalAuthorizedKey(clientKey)), 0o600)
	port := testwait.FreePort(t)
	config := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %[2]s/host_key
AuthorizedKeysFile %[2]s/authorized_keys
PidFile %[2]s/sshd.pid
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
Subsystem sftp internal-sftp
`, port, dir)
	writeFile(t, filepath.Join(dir, "sshd_config"), config, 0o600)
	var logs bytes.Buffer
	cmd := exec.Command(sshdPath, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", logs.String())
		}
	})
	return port, hostSigner.PublicKey()
}

func TestRealSSHD(t *testing.T) {
	clientKey := newSigner(t)
	port, hostKey := startSSHD(t, clientKey.PublicKey())
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Host: "127.0.0.1", Port: port, User: me.Username, Signers: []gossh.Signer{clientKey},
		Timeout: 20 * time.Second, HostKeyCallback: gossh.FixedHostKey(hostKey),
	}
	c := connect(t, opts) // retries while sshd starts up
	ctx := context.Background()

	if status, out, _ := run(t, c, "id -un; exit 7"); status != 7 || out != me.Username+"\n" {
		t.Errorf("run: status %d stdout %q, want 7 and %q", status, out, me.Username)
	}

	dir := t.TempDir()
	remote := filepath.Join(dir, "uploaded.sh")
	if err := c.Upload(ctx, remote, strings.NewReader("#!/bin/sh\necho from file\n"), 0o750); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if status, out, _ := run(t, c, remote); status != 0 || out != "from file\n" {
		t.Errorf("uploaded script: status %d stdout %q", status, out)
	}
	var back bytes.Buffer
	if err := c.Download(ctx, remote, &back); err != nil || back.String() != "#!/bin/sh\necho from file\n" {
		t.Errorf("Download = %q, %v", back.String(), err)
	}
	if info, err := os.Stat(remote); err != nil || info.Mode().Perm() != 0o750 {
		t.Errorf("uploaded file mode: %v, %v; want 0750", info, err)
	}

	t.Run("scp directory round trip", func(t *testing.T) {
		scpOpts := opts
		scpOpts.FileTransfer = TransferSCP
		sc := connect(t, scpOpts)
		src := filepath.Join(t.TempDir(), "tree")
		makeTree(t, src)
		dst := filepath.Join(t.TempDir(), "remote")
		if err := sc.UploadDir(ctx, dst, src+"/"); err != nil {
			t.Fatalf("UploadDir: %v", err)
		}
		compareTrees(t, listing(t, dst), wantTree(""))
		local := filepath.Join(t.TempDir(), "local")
		if err := sc.DownloadDir(ctx, dst, local); err != nil {
			t.Fatalf("DownloadDir: %v", err)
		}
		compareTrees(t, listing(t, filepath.Join(local, "remote")), wantTree(""))
	})

	t.Run("pty", func(t *testing.T) {
		ptyOpts := opts
		ptyOpts.PTY = true
		pc := connect(t, ptyOpts)
		if _, out, _ := run(t, pc, "test -t 1 && echo tty"); strings.TrimSpace(out) != "tty" {
			t.Errorf("stdout = %q, want tty: no pseudo-terminal allocated", out)
		}
	})

	t.Run("wrong host key rejected", func(t *testing.T) {
		bad := opts
		bad.HostKeyCallback, bad.HandshakeAttempts = gossh.FixedHostKey(newSigner(t).PublicKey()), 1
		if _, err := Connect(ctx, bad); err == nil || !strings.Contains(err.Error(), "host key") {
			t.Errorf("Connect with the wrong host key: %v, want a host key error", err)
		}
	})

	t.Run("session killed is ErrDisconnected", func(t *testing.T) {
		kc := connect(t, opts)
		// Kill this connection's sshd process, as a reboot would.
		_, err := kc.Run(ctx, Cmd{Command: "kill -9 $PPID; sleep 30"})
		if !errors.Is(err, ErrDisconnected) {
			t.Fatalf("Run = %v, want ErrDisconnected", err)
		}
		if err := kc.Reconnect(ctx); err != nil {
			t.Fatalf("Reconnect: %v", err)
		}
		if _, out, _ := run(t, kc, "echo again"); out != "again\n" {
			t.Errorf("after reconnect: stdout %q", out)
		}
	})
}
