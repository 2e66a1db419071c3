package communicator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgbuild/imgbuild/internal/check"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{SSHConfig: SSHConfig{SSHUsername: "ubuntu"}}
	ctx := &check.Context{}
	c.Prepare(ctx)
	if ctx.HasErrors() {
		t.Fatalf("unexpected diagnostics: %v", ctx.Diags)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"communicator", c.Type, "ssh"},
		{"ssh_port", c.SSHPort, 22},
		{"ssh_timeout", c.SSHTimeout, "5m"},
		{"timeout", c.Timeout(), 5 * time.Minute},
		{"ssh_handshake_attempts", c.SSHHandshakeAttempts, 10},
		{"temporary_key_pair_type", c.TemporaryKeyPairType, "ed25519"},
		{"temporary_key_pair_bits", c.TemporaryKeyPairBits, 0},
		{"ssh_file_transfer_method", c.SSHFileTransferMethod, "scp"},
		{"ssh_proxy_port without a proxy", c.SSHProxyPort, 0},
		{"winrm_port", c.WinRMPort, 5985},
		{"winrm_timeout", c.WinRMTimeout, "30m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
			}
		})
	}
}

func TestConfigWinRMDefaults(t *testing.T) {
	c := Config{Type: WinRM, WinRMConfig: WinRMConfig{WinRMUsername: "Administrator", WinRMUseSSL: true}}
	ctx := &check.Context{}
	c.Prepare(ctx)
	if ctx.HasErrors() || c.WinRMPort != 5986 || c.Timeout() != 30*time.Minute {
		t.Errorf("port %d timeout %v diags %v; want 5986, 30m, none", c.WinRMPort, c.Timeout(), ctx.Diags)
	}
	rsa := Config{SSHConfig: SSHConfig{SSHUsername: "u", TemporaryKeyPairType: "rsa"}}
	rsa.Prepare(&check.Context{})
	if rsa.TemporaryKeyPairBits != 4096 {
		t.Errorf("rsa bits = %d, want 4096", rsa.TemporaryKeyPairBits)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "id"), []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := func() Config { return Config{SSHConfig: SSHConfig{SSHUsername: "u"}} }
	tests := []struct {
		name    string
		edit    func(*Config)
		unknown string
		want    string // summary substring; "" means no error
	}{
		{"valid", func(*Config) {}, "", ""},
		{"bad communicator", func(c *Config) { c.Type = "telnet" }, "", "Invalid value for communicator"},
		{"none needs nothing", func(c *Config) { c.Type = None; c.SSHUsername = "" }, "", ""},
		{"missing username", func(c *Config) { c.SSHUsername = "" }, "", "Missing required argument"},
		{"unknown username", func(c *Config) { c.SSHUsername = "" }, "ssh_username", ""},
		{"bad timeout", func(c *Config) { c.SSHTimeout = "5" }, "", "Invalid duration for ssh_timeout"},
		{"bad pause", func(c *Config) { c.PauseBeforeConnecting = "soon" }, "", "Invalid duration for pause_before_connecting"},
		{"bad port", func(c *Config) { c.SSHPort = 70000 }, "", "Invalid value for ssh_port"},
		{"bad handshake", func(c *Config) { c.SSHHandshakeAttempts = -1 }, "", "Invalid value for ssh_handshake_attempts"},
		{"bad key type", func(c *Config) { c.TemporaryKeyPairType = "dsa" }, "", "Invalid value for temporary_key_pair_type"},
		{"small rsa", func(c *Config) { c.TemporaryKeyPairType = "rsa"; c.TemporaryKeyPairBits = 1024 }, "", "temporary_key_pair_bits"},
		{"bad transfer", func(c *Config) { c.SSHFileTransferMethod = "ftp" }, "", "ssh_file_transfer_method"},
		{"missing key file", func(c *Config) { c.SSHPrivateKeyFile = "nope" }, "", "File not found for ssh_private_key_file"},
		{"key file exists", func(c *Config) { c.SSHPrivateKeyFile = "id" }, "", ""},
		{"keypair without key", func(c *Config) { c.SSHKeyPairName = "kp" }, "", "Missing private key"},
		{"keypair with agent", func(c *Config) { c.SSHKeyPairName = "kp"; c.SSHAgentAuth = true }, "", ""},
		{"bastion without creds", func(c *Config) { c.SSHBastionHost = "b" }, "", "Missing bastion credentials"},
		{"ciphers", func(c *Config) { c.SSHCiphers = []string{"aes128-ctr", "aes128-cbc"} }, "", ""},
		{"unknown cipher", func(c *Config) { c.SSHCiphers = []string{"aes128-ctr", "blowfish"} }, "", "Invalid value for ssh_ciphers"},
		{"kex", func(c *Config) {
			c.SSHKEXAlgos = []string{"curve25519-sha256@libssh.org", "diffie-hellman-group1-sha1"}
		}, "", ""},
		{"unknown kex", func(c *Config) { c.SSHKEXAlgos = []string{"dh-group-99"} }, "", "Invalid value for ssh_key_exchange_algorithms"},
		{"tunnels", func(c *Config) {
			c.SSHLocalTunnels = []string{"8080:localhost:3000"}
			c.SSHRemoteTunnels = []string{"9090:10.0.0.1:80"}
		}, "", ""},
		{"bad local tunnel", func(c *Config) { c.SSHLocalTunnels = []string{"8080:localhost"} }, "", "Invalid value for ssh_local_tunnels"},
		{"bad remote tunnel", func(c *Config) { c.SSHRemoteTunnels = []string{"x:localhost:80"} }, "", "Invalid value for ssh_remote_tunnels"},
		{"bad read write timeout", func(c *Config) { c.SSHReadWriteTimeout = "5" }, "", "Invalid duration for ssh_read_write_timeout"},
		{"proxy", func(c *Config) { c.SSHProxyHost = "p"; c.SSHProxyUsername = "u"; c.SSHProxyPassword = "pw" }, "", ""},
		{"proxy and bastion", func(c *Config) { c.SSHProxyHost = "p"; c.SSHBastionHost = "b"; c.SSHBastionPassword = "x" }, "", "Conflicting ssh_proxy_host"},
		{"proxy password without user", func(c *Config) { c.SSHProxyHost = "p"; c.SSHProxyPassword = "pw" }, "", "Missing ssh_proxy_username"},
		{"bad proxy port", func(c *Config) { c.SSHProxyHost = "p"; c.SSHProxyPort = -1 }, "", "Invalid value for ssh_proxy_port"},
		{"bastion cert without key", func(c *Config) {
			c.SSHBastionHost = "b"
			c.SSHBastionPassword = "x"
			c.SSHBastionCertificateFile = "id"
		}, "", "Missing ssh_bastion_private_key_file"},
		{"missing bastion cert", func(c *Config) {
			c.SSHBastionHost = "b"
			c.SSHBastionPrivateKeyFile = "id"
			c.SSHBastionCertificateFile = "nope"
		}, "", "File not found for ssh_bastion_certificate_file"},
		{"bastion cert", func(c *Config) {
			c.SSHBastionHost = "b"
			c.SSHBastionPrivateKeyFile = "id"
			c.SSHBastionCertificateFile = "id"
		}, "", ""},
		{"winrm without user", func(c *Config) { c.Type = WinRM }, "", "Missing required argument"},
		{"bad winrm timeout", func(c *Config) { c.Type = WinRM; c.WinRMUsername = "a"; c.WinRMTimeout = "x" }, "", "winrm_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok()
			tt.edit(&c)
			ctx := &check.Context{BaseDir: dir, Unknown: map[string]bool{tt.unknown: true}}
			c.Prepare(ctx)
			if tt.want == "" {
				if ctx.HasErrors() {
					t.Fatalf("unexpected diagnostics: %v", ctx.Diags)
				}
				return
			}
			if len(ctx.Diags) != 1 || !strings.Contains(ctx.Diags[0].Summary, tt.want) {
				t.Errorf("diagnostics = %v, want one containing %q", ctx.Diags, tt.want)
			}
		})
	}
}

func TestConfigProxyPortDefault(t *testing.T) {
	c := Config{SSHConfig: SSHConfig{SSHUsername: "u", SSHProxyHost: "proxy.example"}}
	ctx := &check.Context{}
	c.Prepare(ctx)
	if ctx.HasErrors() || c.SSHProxyPort != 1080 {
		t.Errorf("ssh_proxy_port = %d, diags %v; want 1080 (Packer's default)", c.SSHProxyPort, ctx.Diags)
	}
}

// TestConfigUnknownCipherNamesAllowed: the error lists what is accepted.
func TestConfigUnknownCipherNamesAllowed(t *testing.T) {
	c := Config{SSHConfig: SSHConfig{SSHUsername: "u", SSHCiphers: []string{"blowfish"}}}
	ctx := &check.Context{}
	c.Prepare(ctx)
	if len(ctx.Diags) != 1 || !strings.Contains(ctx.Diags[0].Detail, `unknown cipher "blowfish"; supported: `) ||
		!strings.Contains(ctx.Diags[0].Detail, "aes128-ctr") {
		t.Errorf("diagnostics = %v, want one naming blowfish and the supported ciphers", ctx.Diags)
	}
}
