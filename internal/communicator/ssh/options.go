package ssh

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Defaults applied by [Connect] to zero-valued [Options] fields.
const (
	DefaultPort              = 22
	DefaultTimeout           = 5 * time.Minute
	DefaultHandshakeAttempts = 10
	DefaultKeepAliveInterval = 5 * time.Second
)

// File transfer protocols accepted in [Options.FileTransfer].
const (
	TransferSFTP = "sftp"
	TransferSCP  = "scp"
)

// Options says how to reach and authenticate to the build instance. The
// builder fills it from the communicator configuration.
type Options struct {
	Host string
	Port int // default 22
	User string

	// Signers are offered for public-key authentication, in order. See
	// [ParsePrivateKey], [SignerFromFile] and [CertSigner].
	Signers []gossh.Signer
	// Password enables password and keyboard-interactive authentication.
	Password string
	// UseAgent offers the keys of the agent at $SSH_AUTH_SOCK.
	UseAgent bool

	// Bastion, when set, is the jump host through which the instance is
	// reached.
	Bastion *Bastion

	// Timeout bounds Connect and Reconnect as a whole (ssh_timeout);
	// default 5m.
	Timeout time.Duration
	// HandshakeAttempts is how many failed SSH handshakes (including
	// rejected credentials) Connect tolerates before giving up; default 10.
	HandshakeAttempts int
	// KeepAliveInterval is how often a keepalive@openssh.com request is
	// sent; default 5s, negative disables keepalives. The connection is
	// closed when a keepalive is unanswered for three intervals.
	KeepAliveInterval time.Duration

	// PTY requests a pseudo-terminal for every command (stderr is then
	// merged into stdout by the remote side).
	PTY bool
	// FileTransfer is "sftp" (default) or "scp".
	FileTransfer string

	// Ciphers and KeyExchanges, when set, replace x/crypto's default
	// ciphers and key exchange algorithms for the instance's connection
	// (ssh_ciphers, ssh_key_exchange_algorithms); see [CheckAlgorithms].
	Ciphers      []string
	KeyExchanges []string

	// Proxy, when set, is the SOCKS5 proxy the instance (or the bastion)
	// is dialled through.
	Proxy *Proxy

	// LocalTunnels listen on localhost here and forward to their address
	// as seen from the instance (ssh -L); RemoteTunnels listen on
	// localhost on the instance and forward to their address as seen from
	// here (ssh -R). They are opened with every connection and closed with
	// it.
	LocalTunnels  []Tunnel
	RemoteTunnels []Tunnel

	// ReadWriteTimeout, when positive, bounds every read and write on the
	// TCP connection (ssh_read_write_timeout): a connection on which
	// nothing moves for that long is dropped and operations fail with
	// ErrDisconnected. With a bastion it applies to the bastion's
	// connection, which carries the instance's.
	ReadWriteTimeout time.Duration

	// ForwardAgent forwards the agent at $SSH_AUTH_SOCK to every command
	// (when that variable is set), as Packer does unless
	// ssh_disable_agent_forwarding is true.
	ForwardAgent bool

	// HostKeyCallback verifies the instance's host key. Nil accepts any
	// key: a freshly launched instance's host key cannot be known in
	// advance (see the package documentation).
	HostKeyCallback gossh.HostKeyCallback
	// Logger receives debug logs; nil discards them.
	Logger hclog.Logger
}

// Bastion describes a jump host. Its fields mean the same as in [Options].
type Bastion struct {
	Host            string
	Port            int // default 22
	User            string
	Password        string
	Signers         []gossh.Signer
	UseAgent        bool
	HostKeyCallback gossh.HostKeyCallback // nil accepts any key
	// Interactive, when set, answers keyboard-interactive challenges
	// (ssh_bastion_interactive); see [TerminalChallenge].
	Interactive gossh.KeyboardInteractiveChallenge
}

// withDefaults returns a copy of o with defaults filled in, or an error
// naming the first invalid field.
func (o Options) withDefaults() (Options, error) {
	if o.Host == "" {
		return o, fmt.Errorf("ssh options: host is required")
	}
	if o.User == "" {
		return o, fmt.Errorf("ssh options: user is required for %s", o.Host)
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.HandshakeAttempts <= 0 {
		o.HandshakeAttempts = DefaultHandshakeAttempts
	}
	if o.KeepAliveInterval == 0 {
		o.KeepAliveInterval = DefaultKeepAliveInterval
	}
	switch o.FileTransfer {
	case "":
		o.FileTransfer = TransferSFTP
	case TransferSFTP, TransferSCP:
	default:
		return o, fmt.Errorf("ssh options: file transfer %q is not sftp or scp", o.FileTransfer)
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Bastion != nil {
		b := *o.Bastion
		if b.Host == "" || b.User == "" {
			return o, fmt.Errorf("ssh options: bastion needs a host and a user")
		}
		if b.Port == 0 {
			b.Port = DefaultPort
		}
		o.Bastion = &b
	}
	if o.Proxy != nil {
		p := *o.Proxy
		if p.Host == "" {
			return o, fmt.Errorf("ssh options: proxy needs a host")
		}
		if p.Port == 0 {
			p.Port = DefaultProxyPort
		}
		o.Proxy = &p
	}
	if err := CheckAlgorithms(o.Ciphers, o.KeyExchanges); err != nil {
		return o, fmt.Errorf("ssh options: %w", err)
	}
	// Missing credentials are configuration errors: report them before
	// any dial, which would otherwise be retried until the timeout.
	if err := o.target().checkAuth(); err != nil {
		return o, err
	}
	if o.Bastion != nil {
		if err := o.bastion().checkAuth(); err != nil {
			return o, err
		}
	}
	return o, nil
}

// checkAuth reports an endpoint that has no way to authenticate, or that
// asks for an agent when none is running.
func (e endpoint) checkAuth() error {
	if e.useAgent && os.Getenv("SSH_AUTH_SOCK") == "" {
		return e.wrap(errors.New("agent authentication requested but SSH_AUTH_SOCK is not set"))
	}
	if e.interactive == nil && len(e.signers) == 0 && !e.useAgent && e.password == "" {
		return e.wrap(errors.New("no authentication method: set a key, a password or agent auth"))
	}
	return nil
}

func (o Options) addr() string { return net.JoinHostPort(o.Host, strconv.Itoa(o.Port)) }

// endpoint is one SSH server to authenticate to: the target or the bastion.
type endpoint struct {
	role     string // "host" or "bastion", for errors
	addr     string
	user     string
	password string
	signers  []gossh.Signer
	useAgent bool
	hostKey  gossh.HostKeyCallback

	interactive  gossh.KeyboardInteractiveChallenge // bastion only
	ciphers      []string                           // target only, as in Packer
	keyExchanges []string
}

func (o Options) target() endpoint {
	return endpoint{role: "host", addr: o.addr(), user: o.User, password: o.Password, signers: o.Signers,
		useAgent: o.UseAgent, hostKey: o.HostKeyCallback, ciphers: o.Ciphers, keyExchanges: o.KeyExchanges}
}

func (o Options) bastion() endpoint {
	b := o.Bastion
	addr := net.JoinHostPort(b.Host, strconv.Itoa(b.Port))
	return endpoint{role: "bastion", addr: addr, user: b.User, password: b.Password, signers: b.Signers,
		useAgent: b.UseAgent, hostKey: b.HostKeyCallback, interactive: b.Interactive}
}

// String names the endpoint as "<role> user@host:port" for errors.
func (e endpoint) String() string { return e.role + " " + e.user + "@" + e.addr }

// wrap prefixes errors about the bastion with its name; errors about the
// target are already wrapped by Connect with its name.
func (e endpoint) wrap(err error) error {
	if e.role == "host" {
		return err
	}
	return fmt.Errorf("%s: %w", e, err)
}

// clientConfig builds the handshake configuration. The returned close
// function releases the agent connection, if one was opened; call it once
// the handshake is over.
func (e endpoint) clientConfig() (*gossh.ClientConfig, func(), error) {
	closeAgent := func() {}
	var methods []gossh.AuthMethod
	if e.interactive != nil { // first, as Packer orders the bastion's methods
		methods = append(methods, gossh.KeyboardInteractive(e.interactive))
	}
	if len(e.signers) > 0 {
		methods = append(methods, gossh.PublicKeys(e.signers...))
	}
	if err := e.checkAuth(); err != nil {
		return nil, nil, err
	}
	if e.useAgent {
		sock := os.Getenv("SSH_AUTH_SOCK")
		conn, err := net.Dial("unix", sock)
		if err != nil {
			return nil, nil, e.wrap(fmt.Errorf("connect to ssh agent: %w", err))
		}
		closeAgent = func() { conn.Close() }
		methods = append(methods, gossh.PublicKeysCallback(agent.NewClient(conn).Signers))
	}
	if e.password != "" {
		pw := e.password
		methods = append(methods, gossh.Password(pw),
			gossh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	hostKey := e.hostKey
	if hostKey == nil {
		hostKey = gossh.InsecureIgnoreHostKey() // see package doc: fresh instance, unknown key
	}
	cfg := &gossh.ClientConfig{User: e.user, Auth: methods, HostKeyCallback: hostKey}
	cfg.Ciphers, cfg.KeyExchanges = e.ciphers, e.keyExchanges
	return cfg, closeAgent, nil
}
