package steps

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/communicator"
	"github.com/imgbuild/imgbuild/internal/communicator/ssh"
	"github.com/imgbuild/imgbuild/internal/communicator/winrm"
)

// connectInstance connects the communicator to the running instance:
// SSH with the temporary key (or the configured credentials), through a
// bastion when one is set, or WinRM with winrm_password or the password
// the password step read. "none" does nothing. Cleanup closes the
// connection.
type connectInstance struct{ b *build }

// Run waits pause_before_connecting, then connects.
func (n *connectInstance) Run(ctx context.Context) error {
	b := n.b
	if b.cfg.Type == communicator.None {
		return nil
	}
	if err := sleep(ctx, check.DurationValue(b.cfg.PauseBeforeConnecting)); err != nil {
		return err
	}
	if b.cfg.Type == communicator.WinRM {
		return n.winrm(ctx)
	}
	opts, err := n.options()
	if err != nil {
		return fmt.Errorf("connect to instance %s: %w", b.st.instance.ID, err)
	}
	b.say("connecting to %s@%s:%d over SSH", opts.User, opts.Host, opts.Port)
	client, err := ssh.Connect(ctx, opts)
	if err != nil {
		return fmt.Errorf("connect to instance %s in %s: %w", b.st.instance.ID, b.cfg.Region, err)
	}
	b.st.comm, b.st.connHost, b.st.connPort = &sshComm{Client: client}, opts.Host, opts.Port
	return nil
}

// winrm connects over WinRM, retrying until winrm_timeout (or
// timeouts.ssh); wrong credentials fail at once.
func (n *connectInstance) winrm(ctx context.Context) error {
	b, cfg := n.b, n.b.cfg
	host := cfg.WinRMHost
	if host == "" {
		h, err := sshHost(cfg, b.st.instance)
		if err != nil {
			return fmt.Errorf("connect to instance %s: %w", b.st.instance.ID, err)
		}
		host = h
	}
	timeout := check.DurationValue(cfg.Timeouts.SSH)
	if timeout == 0 {
		timeout = cfg.Config.Timeout()
	}
	opts := winrm.Options{
		Host: host, Port: cfg.WinRMPort, User: cfg.WinRMUsername, Password: cmp.Or(cfg.WinRMPassword, b.st.password),
		HTTPS: cfg.WinRMUseSSL, Insecure: cfg.WinRMInsecure, NTLM: cfg.WinRMUseNTLM, NoProxy: cfg.WinRMNoProxy,
		Timeout: timeout, Logger: b.env.Logger,
	}
	scheme := "HTTP"
	if opts.HTTPS {
		scheme = "HTTPS"
	}
	b.say("connecting to %s@%s:%d over WinRM (%s)", opts.User, opts.Host, opts.Port, scheme)
	client, err := winrm.Connect(ctx, opts)
	if err != nil {
		return fmt.Errorf("connect to instance %s in %s: %w", b.st.instance.ID, b.cfg.Region, err)
	}
	b.st.comm, b.st.connHost, b.st.connPort = client, opts.Host, opts.Port
	return nil
}

// options maps the communicator configuration into ssh.Options.
func (n *connectInstance) options() (ssh.Options, error) {
	b, cfg := n.b, n.b.cfg
	host, err := sshHost(cfg, b.st.instance)
	if err != nil {
		return ssh.Options{}, err
	}
	keepAlive := check.DurationValue(cfg.SSHKeepAliveInterval)
	if keepAlive == 0 {
		keepAlive = -1 // "0s" disables keepalives
	}
	timeout := check.DurationValue(cfg.Timeouts.SSH)
	if timeout == 0 {
		timeout = cfg.Config.Timeout()
	}
	opts := ssh.Options{
		Host: host, Port: cfg.SSHPort, User: cfg.SSHUsername, Password: cfg.SSHPassword, UseAgent: cfg.SSHAgentAuth,
		Timeout: timeout, HandshakeAttempts: cfg.SSHHandshakeAttempts, KeepAliveInterval: keepAlive,
		PTY: cfg.SSHPty, FileTransfer: cfg.SSHFileTransferMethod, Logger: b.env.Logger,
		Ciphers: cfg.SSHCiphers, KeyExchanges: cfg.SSHKEXAlgos, ForwardAgent: !cfg.SSHDisableAgentForwarding,
		ReadWriteTimeout: check.DurationValue(cfg.SSHReadWriteTimeout),
	}
	if opts.Signers, err = n.signers(); err != nil {
		return ssh.Options{}, err
	}
	if err := n.sshExtras(&opts); err != nil {
		return ssh.Options{}, err
	}
	if cfg.SSHBastionHost != "" {
		bastion := &ssh.Bastion{Host: cfg.SSHBastionHost, Port: cfg.SSHBastionPort, User: cfg.SSHBastionUsername,
			Password: cfg.SSHBastionPassword, UseAgent: cfg.SSHBastionAgentAuth}
		if f := cfg.SSHBastionPrivateKeyFile; f != "" {
			s, err := ssh.SignerFromFile(check.Resolve(b.env.BaseDir, f))
			if err != nil {
				return ssh.Options{}, fmt.Errorf("ssh_bastion_private_key_file: %w", err)
			}
			if c := cfg.SSHBastionCertificateFile; c != "" {
				cert, err := os.ReadFile(check.Resolve(b.env.BaseDir, c))
				if err != nil {
					return ssh.Options{}, fmt.Errorf("ssh_bastion_certificate_file: %w", err)
				}
				if s, err = ssh.CertSigner(s, cert); err != nil {
					return ssh.Options{}, fmt.Errorf("ssh_bastion_certificate_file: %w", err)
				}
			}
			bastion.Signers = []gossh.Signer{s}
		}
		if cfg.SSHBastionInteractive {
			bastion.Interactive = ssh.TerminalChallenge()
		}
		opts.Bastion = bastion
	}
	return opts, nil
}

// sshExtras sets the SOCKS proxy and the tunnels (checked by Prepare).
func (n *connectInstance) sshExtras(opts *ssh.Options) error {
	b, cfg := n.b, n.b.cfg
	if cfg.SSHProxyHost != "" {
		opts.Proxy = &ssh.Proxy{Host: cfg.SSHProxyHost, Port: cfg.SSHProxyPort,
			User: cfg.SSHProxyUsername, Password: cfg.SSHProxyPassword}
		if cfg.SSHProxyPassword != "" && b.env.AddSecret != nil {
			b.env.AddSecret(cfg.SSHProxyPassword)
		}
	}
	for _, spec := range cfg.SSHLocalTunnels {
		t, err := ssh.ParseTunnel(spec)
		if err != nil {
			return fmt.Errorf("ssh_local_tunnels: %w", err)
		}
		opts.LocalTunnels = append(opts.LocalTunnels, t)
	}
	for _, spec := range cfg.SSHRemoteTunnels {
		t, err := ssh.ParseTunnel(spec)
		if err != nil {
			return fmt.Errorf("ssh_remote_tunnels: %w", err)
		}
		opts.RemoteTunnels = append(opts.RemoteTunnels, t)
	}
	return nil
}

// signers returns the temporary key, or ssh_private_key_file (with its
// ssh_certificate_file).
func (n *connectInstance) signers() ([]gossh.Signer, error) {
	b, cfg := n.b, n.b.cfg
	if b.st.signer != nil {
		return []gossh.Signer{b.st.signer}, nil
	}
	if cfg.SSHPrivateKeyFile == "" {
		return nil, nil
	}
	pemBytes, err := os.ReadFile(check.Resolve(b.env.BaseDir, cfg.SSHPrivateKeyFile))
	if err != nil {
		return nil, fmt.Errorf("ssh_private_key_file: %w", err)
	}
	if b.env.AddSecret != nil {
		b.env.AddSecret(string(pemBytes)) // a script that prints the key shows it masked
	}
	s, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("ssh_private_key_file %s: %w", cfg.SSHPrivateKeyFile, err)
	}
	if cfg.SSHCertificateFile != "" {
		cert, err := os.ReadFile(check.Resolve(b.env.BaseDir, cfg.SSHCertificateFile))
		if err != nil {
			return nil, fmt.Errorf("ssh_certificate_file: %w", err)
		}
		if s, err = ssh.CertSigner(s, cert); err != nil {
			return nil, fmt.Errorf("ssh_certificate_file: %w", err)
		}
	}
	return []gossh.Signer{s}, nil
}

// sshHost picks the address to connect to: ssh_host, else by ssh_interface
// (default: the public IP, falling back to the private IP).
func sshHost(cfg *Config, inst instanceInfo) (string, error) {
	if cfg.SSHHost != "" {
		return cfg.SSHHost, nil
	}
	var host string
	switch cfg.SSHInterface {
	case "private_ip":
		host = inst.PrivateIP
	case "public_dns":
		host = inst.PublicDNS
	case "private_dns":
		host = inst.PrivateDNS
	case "public_ip":
		host = inst.PublicIP
	default:
		host = cmp.Or(inst.PublicIP, inst.PrivateIP)
	}
	if host == "" {
		iface := cmp.Or(cfg.SSHInterface, "public_ip")
		return "", fmt.Errorf("instance %s has no address for ssh_interface %q; set ssh_interface or ssh_host", inst.ID, iface)
	}
	return host, nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Cleanup closes the connection.
func (n *connectInstance) Cleanup(context.Context) error {
	if n.b.st.comm == nil {
		return nil
	}
	if err := n.b.st.comm.Close(); err != nil {
		return fmt.Errorf("close the connection to instance %s: %w", n.b.st.instance.ID, err)
	}
	return nil
}
