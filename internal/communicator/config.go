package communicator

import (
	"time"

	"github.com/imgbuild/imgbuild/internal/check"
	sshcomm "github.com/imgbuild/imgbuild/internal/communicator/ssh"
)

// Communicator types accepted by the communicator attribute.
const (
	SSH   = "ssh"
	WinRM = "winrm"
	None  = "none"
)

// Config is the communicator configuration shared by builders that launch
// an instance. Its attributes sit directly in the source block, as in Packer.
type Config struct {
	// Type is how imgbuild connects to the instance: "ssh" (default),
	// "winrm", or "none" (no provisioners that need a connection may run).
	Type string `hcl:"communicator"`
	// PauseBeforeConnecting waits this long after the instance is reachable
	// before connecting, e.g. "30s". Default: no pause.
	PauseBeforeConnecting string `hcl:"pause_before_connecting"`

	SSHConfig
	WinRMConfig
}

// SSHConfig holds the ssh_* attributes. They are only used when communicator is "ssh".
type SSHConfig struct {
	// SSHHost is the address to connect to. Default: chosen by the builder
	// from ssh_interface.
	SSHHost string `hcl:"ssh_host"`
	// SSHPort is the SSH port. Default: 22.
	SSHPort int `hcl:"ssh_port"`
	// SSHUsername is the user to log in as. Required with communicator "ssh".
	SSHUsername string `hcl:"ssh_username"`
	// SSHPassword is the password to log in with. Sensitive.
	SSHPassword string `hcl:"ssh_password" sensitive:"true"`
	// SSHTimeout is how long to wait for SSH to become available, e.g.
	// "10m". Default: "5m".
	SSHTimeout string `hcl:"ssh_timeout"`
	// SSHHandshakeAttempts is how many SSH handshakes to try before giving
	// up. Default: 10; at least 1.
	SSHHandshakeAttempts int `hcl:"ssh_handshake_attempts"`
	// SSHKeyPairName names an existing EC2 key pair to launch with instead
	// of a temporary one. Requires ssh_private_key_file or ssh_agent_auth.
	SSHKeyPairName string `hcl:"ssh_keypair_name"`
	// SSHPrivateKeyFile is a private key file to authenticate with; it
	// must exist. Relative paths are relative to the template directory.
	SSHPrivateKeyFile string `hcl:"ssh_private_key_file"`
	// SSHAgentAuth authenticates with the local SSH agent. Default: false.
	SSHAgentAuth bool `hcl:"ssh_agent_auth"`
	// SSHCertificateFile is a signed certificate for the private key; it
	// must exist.
	SSHCertificateFile string `hcl:"ssh_certificate_file"`
	// SSHClearAuthorizedKeys removes the temporary public key from
	// ~/.ssh/authorized_keys before the image is made. Default: false.
	SSHClearAuthorizedKeys bool `hcl:"ssh_clear_authorized_keys"`
	// SSHPty requests a pseudo terminal for commands. Default: false.
	SSHPty bool `hcl:"ssh_pty"`
	// SSHFileTransferMethod is "scp" (default) or "sftp".
	SSHFileTransferMethod string `hcl:"ssh_file_transfer_method"`
	// SSHKeepAliveInterval is the interval between keep-alive messages,
	// e.g. "5s" (default); "0s" disables them.
	SSHKeepAliveInterval string `hcl:"ssh_keep_alive_interval"`
	// SSHCiphers replaces the default ciphers offered for the instance's
	// connection; each must be one x/crypto/ssh implements.
	SSHCiphers []string `hcl:"ssh_ciphers"`
	// SSHKEXAlgos replaces the default key exchange algorithms offered
	// for the instance's connection.
	SSHKEXAlgos []string `hcl:"ssh_key_exchange_algorithms"`
	// SSHReadWriteTimeout drops the connection when a read or write on it
	// waits this long, e.g. "5m". Default: disabled.
	SSHReadWriteTimeout string `hcl:"ssh_read_write_timeout"`
	// SSHDisableAgentForwarding stops forwarding the local SSH agent
	// ($SSH_AUTH_SOCK) to commands. Default: false (forwarded when set).
	SSHDisableAgentForwarding bool `hcl:"ssh_disable_agent_forwarding"`
	// SSHLocalTunnels are "port:host:hostport" forwards listening on
	// localhost here to host:hostport as seen from the instance (ssh -L).
	SSHLocalTunnels []string `hcl:"ssh_local_tunnels"`
	// SSHRemoteTunnels are "port:host:hostport" forwards listening on
	// localhost on the instance to host:hostport as seen from here (ssh -R).
	SSHRemoteTunnels []string `hcl:"ssh_remote_tunnels"`

	// SSHProxyHost is a SOCKS5 proxy to connect through.
	SSHProxyHost string `hcl:"ssh_proxy_host"`
	// SSHProxyPort is the proxy's port. Default: 1080.
	SSHProxyPort int `hcl:"ssh_proxy_port"`
	// SSHProxyUsername authenticates to the proxy.
	SSHProxyUsername string `hcl:"ssh_proxy_username"`
	// SSHProxyPassword authenticates to the proxy. Sensitive.
	SSHProxyPassword string `hcl:"ssh_proxy_password" sensitive:"true"`

	// SSHBastionHost is a bastion (jump) host to connect through.
	SSHBastionHost string `hcl:"ssh_bastion_host"`
	// SSHBastionPort is the bastion's SSH port. Default: 22.
	SSHBastionPort int `hcl:"ssh_bastion_port"`
	// SSHBastionUsername is the user to log in to the bastion as.
	SSHBastionUsername string `hcl:"ssh_bastion_username"`
	// SSHBastionPassword is the bastion password. Sensitive.
	SSHBastionPassword string `hcl:"ssh_bastion_password" sensitive:"true"`
	// SSHBastionPrivateKeyFile is a private key file for the bastion; it
	// must exist.
	SSHBastionPrivateKeyFile string `hcl:"ssh_bastion_private_key_file"`
	// SSHBastionAgentAuth authenticates to the bastion with the local SSH
	// agent. One of ssh_bastion_password, ssh_bastion_private_key_file or
	// ssh_bastion_agent_auth is required with ssh_bastion_host.
	SSHBastionAgentAuth bool `hcl:"ssh_bastion_agent_auth"`
	// SSHBastionInteractive answers the bastion's keyboard-interactive
	// challenges (e.g. a one-time code) from the terminal. Default: false.
	SSHBastionInteractive bool `hcl:"ssh_bastion_interactive"`
	// SSHBastionCertificateFile is a signed certificate for
	// ssh_bastion_private_key_file; it must exist.
	SSHBastionCertificateFile string `hcl:"ssh_bastion_certificate_file"`

	// TemporaryKeyPairName names the temporary EC2 key pair. Default: a
	// generated name ("imgbuild_<id>").
	TemporaryKeyPairName string `hcl:"temporary_key_pair_name"`
	// TemporaryKeyPairType is "ed25519" (default) or "rsa" (default with
	// communicator "winrm": EC2 encrypts a Windows instance's password
	// with an RSA key only).
	TemporaryKeyPairType string `hcl:"temporary_key_pair_type"`
	// TemporaryKeyPairBits is the RSA key size. Default: 4096; at least
	// 2048. Ignored for ed25519.
	TemporaryKeyPairBits int `hcl:"temporary_key_pair_bits"`
}

// WinRMConfig holds the winrm_* attributes, used when communicator is "winrm".
type WinRMConfig struct {
	// WinRMUsername is the user to connect as. Required with communicator "winrm".
	WinRMUsername string `hcl:"winrm_username"`
	// WinRMPassword is the user's password. Sensitive. Default: the
	// instance's administrator password when the builder can retrieve it.
	WinRMPassword string `hcl:"winrm_password" sensitive:"true"`
	// WinRMHost is the address to connect to. Default: chosen by the builder.
	WinRMHost string `hcl:"winrm_host"`
	// WinRMPort is the WinRM port. Default: 5985, or 5986 with winrm_use_ssl.
	WinRMPort int `hcl:"winrm_port"`
	// WinRMTimeout is how long to wait for WinRM to become available.
	// Default: "30m".
	WinRMTimeout string `hcl:"winrm_timeout"`
	// WinRMUseSSL connects over HTTPS. Default: false.
	WinRMUseSSL bool `hcl:"winrm_use_ssl"`
	// WinRMInsecure skips verification of the server certificate. Default: false.
	WinRMInsecure bool `hcl:"winrm_insecure"`
	// WinRMUseNTLM authenticates with NTLM instead of basic. Default: false.
	WinRMUseNTLM bool `hcl:"winrm_use_ntlm"`
	// WinRMNoProxy bypasses any HTTP proxy for WinRM. Default: false.
	WinRMNoProxy bool `hcl:"winrm_no_proxy"`
}

// Prepare fills defaults and checks the communicator configuration.
func (c *Config) Prepare(ctx *check.Context) {
	c.setDefaults()
	ctx.Enum(check.Path("communicator"), c.Type, SSH, WinRM, None)
	ctx.DurationAttr(check.Path("pause_before_connecting"), c.PauseBeforeConnecting)
	switch c.Type {
	case SSH:
		c.SSHConfig.prepare(ctx)
	case WinRM:
		c.WinRMConfig.prepare(ctx)
		c.prepareWinRMKey(ctx)
	}
}

// Timeout returns how long to wait for the communicator to connect: the
// ssh_timeout or winrm_timeout, after Prepare.
func (c *Config) Timeout() time.Duration {
	if c.Type == WinRM {
		return check.DurationValue(c.WinRMTimeout)
	}
	return check.DurationValue(c.SSHTimeout)
}

func (c *Config) setDefaults() {
	setString(&c.Type, SSH)
	setInt(&c.SSHPort, 22)
	setString(&c.SSHTimeout, "5m")
	setInt(&c.SSHHandshakeAttempts, 10)
	setString(&c.SSHFileTransferMethod, "scp")
	setString(&c.SSHKeepAliveInterval, "5s")
	setInt(&c.SSHBastionPort, 22)
	if c.SSHProxyHost != "" {
		setInt(&c.SSHProxyPort, 1080)
	}
	if c.Type == WinRM {
		// Windows encrypts the Administrator password with the key
		// pair's public key, and only with an RSA one.
		setString(&c.TemporaryKeyPairType, "rsa")
	}
	setString(&c.TemporaryKeyPairType, "ed25519")
	if c.TemporaryKeyPairType == "rsa" {
		setInt(&c.TemporaryKeyPairBits, 4096)
	}
	setString(&c.WinRMTimeout, "30m")
	if c.WinRMUseSSL {
		setInt(&c.WinRMPort, 5986)
	}
	setInt(&c.WinRMPort, 5985)
}

func (s *SSHConfig) prepare(ctx *check.Context) {
	ctx.Require(check.Path("ssh_username"), s.SSHUsername != "", "it names the user to log in as over SSH")
	ctx.DurationAttr(check.Path("ssh_timeout"), s.SSHTimeout)
	ctx.DurationAttr(check.Path("ssh_keep_alive_interval"), s.SSHKeepAliveInterval)
	port(ctx, "ssh_port", s.SSHPort)
	port(ctx, "ssh_bastion_port", s.SSHBastionPort)
	if s.SSHHandshakeAttempts < 1 {
		ctx.Errorf(check.Path("ssh_handshake_attempts"), "Invalid value for ssh_handshake_attempts", "ssh_handshake_attempts must be at least 1, got %d", s.SSHHandshakeAttempts)
	}
	ctx.Enum(check.Path("ssh_file_transfer_method"), s.SSHFileTransferMethod, "scp", "sftp")
	ctx.Enum(check.Path("temporary_key_pair_type"), s.TemporaryKeyPairType, "ed25519", "rsa")
	if s.TemporaryKeyPairType == "rsa" && s.TemporaryKeyPairBits < 2048 {
		ctx.Errorf(check.Path("temporary_key_pair_bits"), "Invalid value for temporary_key_pair_bits", "RSA keys must have at least 2048 bits, got %d", s.TemporaryKeyPairBits)
	}
	ctx.File(check.Path("ssh_private_key_file"), s.SSHPrivateKeyFile)
	ctx.File(check.Path("ssh_certificate_file"), s.SSHCertificateFile)
	ctx.File(check.Path("ssh_bastion_private_key_file"), s.SSHBastionPrivateKeyFile)
	ctx.File(check.Path("ssh_bastion_certificate_file"), s.SSHBastionCertificateFile)
	if s.SSHBastionCertificateFile != "" && s.SSHBastionPrivateKeyFile == "" && !ctx.IsUnknown("ssh_bastion_private_key_file") {
		ctx.Errorf(check.Path("ssh_bastion_certificate_file"), "Missing ssh_bastion_private_key_file",
			"ssh_bastion_certificate_file certifies a key: it needs ssh_bastion_private_key_file.")
	}
	ctx.DurationAttr(check.Path("ssh_read_write_timeout"), s.SSHReadWriteTimeout)
	for _, name := range s.SSHCiphers {
		if err := sshcomm.CheckAlgorithms([]string{name}, nil); err != nil {
			ctx.Errorf(check.Path("ssh_ciphers"), "Invalid value for ssh_ciphers", "%s", err)
		}
	}
	for _, name := range s.SSHKEXAlgos {
		if err := sshcomm.CheckAlgorithms(nil, []string{name}); err != nil {
			ctx.Errorf(check.Path("ssh_key_exchange_algorithms"), "Invalid value for ssh_key_exchange_algorithms", "%s", err)
		}
	}
	for _, t := range s.SSHLocalTunnels {
		_, err := sshcomm.ParseTunnel(t)
		ctx.Check(check.Path("ssh_local_tunnels"), "Invalid value for ssh_local_tunnels", err)
	}
	for _, t := range s.SSHRemoteTunnels {
		_, err := sshcomm.ParseTunnel(t)
		ctx.Check(check.Path("ssh_remote_tunnels"), "Invalid value for ssh_remote_tunnels", err)
	}
	if s.SSHProxyHost != "" {
		port(ctx, "ssh_proxy_port", s.SSHProxyPort)
		if s.SSHBastionHost != "" {
			ctx.Errorf(check.Path("ssh_proxy_host"), "Conflicting ssh_proxy_host and ssh_bastion_host",
				"Set either ssh_bastion_host or ssh_proxy_host, not both.")
		}
	}
	if s.SSHProxyPassword != "" && s.SSHProxyUsername == "" && !ctx.IsUnknown("ssh_proxy_username") {
		ctx.Errorf(check.Path("ssh_proxy_password"), "Missing ssh_proxy_username",
			"ssh_proxy_password authenticates ssh_proxy_username: set ssh_proxy_username too.")
	}
	if s.SSHKeyPairName != "" && s.SSHPrivateKeyFile == "" && !s.SSHAgentAuth && !ctx.IsUnknown("ssh_private_key_file") {
		ctx.Errorf(check.Path("ssh_keypair_name"), "Missing private key for ssh_keypair_name",
			"ssh_keypair_name %q needs ssh_private_key_file or ssh_agent_auth = true, because imgbuild cannot read the key pair's private key from EC2.", s.SSHKeyPairName)
	}
	if s.SSHBastionHost != "" && !s.SSHBastionAgentAuth && s.SSHBastionPassword == "" && s.SSHBastionPrivateKeyFile == "" {
		ctx.Errorf(check.Path("ssh_bastion_host"), "Missing bastion credentials",
			"ssh_bastion_host needs ssh_bastion_password, ssh_bastion_private_key_file or ssh_bastion_agent_auth = true.")
	}
}

func (w *WinRMConfig) prepare(ctx *check.Context) {
	ctx.Require(check.Path("winrm_username"), w.WinRMUsername != "", "it names the user to connect as over WinRM")
	ctx.DurationAttr(check.Path("winrm_timeout"), w.WinRMTimeout)
	port(ctx, "winrm_port", w.WinRMPort)
}

// prepareWinRMKey checks the temporary key pair of a WinRM build: without
// winrm_password the password is decrypted with it, so it must be RSA.
func (c *Config) prepareWinRMKey(ctx *check.Context) {
	ctx.Enum(check.Path("temporary_key_pair_type"), c.TemporaryKeyPairType, "ed25519", "rsa")
	if c.TemporaryKeyPairType == "rsa" && c.TemporaryKeyPairBits < 2048 {
		ctx.Errorf(check.Path("temporary_key_pair_bits"), "Invalid value for temporary_key_pair_bits", "RSA keys must have at least 2048 bits, got %d", c.TemporaryKeyPairBits)
	}
	if c.TemporaryKeyPairType == "ed25519" && c.WinRMPassword == "" && !ctx.IsUnknown("winrm_password") {
		ctx.Errorf(check.Path("temporary_key_pair_type"), "Windows passwords need an RSA key pair",
			"Without winrm_password imgbuild reads the Administrator password with GetPasswordData, which EC2 encrypts with an RSA key only: remove temporary_key_pair_type or set it to \"rsa\", or set winrm_password.")
	}
}

func port(ctx *check.Context, name string, p int) {
	if p < 1 || p > 65535 {
		ctx.Errorf(check.Path(name), "Invalid value for "+name, "%s must be a TCP port from 1 to 65535, got %d", name, p)
	}
}

func setString(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

func setInt(p *int, def int) {
	if *p == 0 {
		*p = def
	}
}
