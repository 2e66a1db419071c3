package steps

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/communicator/ssh"
)

// TestSSHOptionsFromConfig: the ssh_* settings Packer's communicator has
// reach the SSH client: algorithms, proxy (its password masked), tunnels,
// read/write timeout, agent forwarding, and the bastion's certificate and
// keyboard-interactive authentication.
func TestSSHOptionsFromConfig(t *testing.T) {
	dir := t.TempDir()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	_, caPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := gossh.NewSignerFromKey(caPriv)
	if err != nil {
		t.Fatal(err)
	}
	cert := &gossh.Certificate{Key: signer.PublicKey(), CertType: gossh.UserCert, ValidPrincipals: []string{"jump"}, ValidBefore: gossh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"bastion_id": pem.EncodeToMemory(block), "bastion_id-cert.pub": gossh.MarshalAuthorizedKey(cert)} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	var secrets []string
	env := &builder.Env{BaseDir: dir, AddSecret: func(s string) { secrets = append(secrets, s) }}
	cfg := &Config{}
	cfg.SSHHost, cfg.SSHPort, cfg.SSHUsername, cfg.SSHPassword = "10.0.0.9", 22, "ec2-user", "pw"
	cfg.SSHCiphers, cfg.SSHKEXAlgos = []string{"aes128-cbc"}, []string{"diffie-hellman-group1-sha1"}
	cfg.SSHReadWriteTimeout = "5m"
	cfg.SSHLocalTunnels, cfg.SSHRemoteTunnels = []string{"8080:localhost:3000"}, []string{"9090:10.1.2.3:80"}
	n := &connectInstance{b: newBuild(env, cfg, nil)}

	t.Run("direct", func(t *testing.T) {
		opts, err := n.options()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(opts.Ciphers, cfg.SSHCiphers) || !slices.Equal(opts.KeyExchanges, cfg.SSHKEXAlgos) {
			t.Errorf("algorithms %v %v", opts.Ciphers, opts.KeyExchanges)
		}
		if opts.ReadWriteTimeout != 5*time.Minute {
			t.Errorf("ReadWriteTimeout = %s", opts.ReadWriteTimeout)
		}
		if !slices.Equal(opts.LocalTunnels, []ssh.Tunnel{{Port: 8080, Forward: "localhost:3000"}}) ||
			!slices.Equal(opts.RemoteTunnels, []ssh.Tunnel{{Port: 9090, Forward: "10.1.2.3:80"}}) {
			t.Errorf("tunnels %v %v", opts.LocalTunnels, opts.RemoteTunnels)
		}
		if !opts.ForwardAgent {
			t.Error("the agent is not forwarded by default (Packer forwards it)")
		}
		if opts.Proxy != nil || opts.Bastion != nil {
			t.Errorf("proxy %v bastion %v, want none", opts.Proxy, opts.Bastion)
		}
	})

	t.Run("proxy", func(t *testing.T) {
		cfg.SSHProxyHost, cfg.SSHProxyPort, cfg.SSHProxyUsername, cfg.SSHProxyPassword = "socks.example", 1080, "pu", "proxy-secret"
		cfg.SSHDisableAgentForwarding = true
		defer func() { cfg.SSHProxyHost, cfg.SSHProxyPassword, cfg.SSHDisableAgentForwarding = "", "", false }()
		opts, err := n.options()
		if err != nil {
			t.Fatal(err)
		}
		want := ssh.Proxy{Host: "socks.example", Port: 1080, User: "pu", Password: "proxy-secret"}
		if opts.Proxy == nil || *opts.Proxy != want {
			t.Errorf("Proxy = %+v, want %+v", opts.Proxy, want)
		}
		if !slices.Contains(secrets, "proxy-secret") {
			t.Errorf("secrets %q: the proxy password is not masked", secrets)
		}
		if opts.ForwardAgent {
			t.Error("ssh_disable_agent_forwarding = true still forwards the agent")
		}
	})

	t.Run("bastion", func(t *testing.T) {
		cfg.SSHBastionHost, cfg.SSHBastionPort, cfg.SSHBastionUsername = "bastion.example", 22, "jump"
		cfg.SSHBastionPrivateKeyFile, cfg.SSHBastionCertificateFile, cfg.SSHBastionInteractive = "bastion_id", "bastion_id-cert.pub", true
		opts, err := n.options()
		if err != nil {
			t.Fatal(err)
		}
		b := opts.Bastion
		if b == nil || len(b.Signers) != 1 || b.Interactive == nil {
			t.Fatalf("bastion = %+v, want one signer and an interactive challenge", b)
		}
		if _, ok := b.Signers[0].PublicKey().(*gossh.Certificate); !ok {
			t.Errorf("bastion signer presents a %s, want the certificate", b.Signers[0].PublicKey().Type())
		}
	})
}
