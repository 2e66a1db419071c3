package ssh

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	gossh "golang.org/x/crypto/ssh"
)

// serverOpts configures an in-process test SSH server.
type serverOpts struct {
	password        string            // accepted password, "" disables password auth
	authorized      []gossh.PublicKey // accepted keys
	userCA          gossh.PublicKey   // accepted certificate authority
	noSFTP          bool              // refuse the sftp subsystem
	allowForward    bool              // accept direct-tcpip to loopback (bastion)
	ignoreKeepalive bool              // never answer keepalives (dead peer)
	ciphers         []string          // only these ciphers, when set
	kex             []string          // only these key exchanges, when set
	interactive     map[string]string // keyboard-interactive: question -> expected answer
}

// testServer is an SSH server on 127.0.0.1 that runs exec requests with
// "sh -c" in dir, serves sftp with pkg/sftp and can drop its connections
// to simulate a reboot.
type testServer struct {
	port int
	dir  string
	cfg  *gossh.ServerConfig
	opts serverOpts
	logf func(format string, args ...any)

	conns      atomic.Int64 // TCP connections accepted
	keepalives atomic.Int64
	forwards   atomic.Int64

	mu      sync.Mutex
	ln      net.Listener
	open    map[net.Conn]bool
	signals []string
	wg      sync.WaitGroup
}

func newSigner(t *testing.T) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newServer prepares a server without listening; see listen.
func newServer(t *testing.T, opts serverOpts) *testServer {
	s := &testServer{dir: t.TempDir(), opts: opts, open: map[net.Conn]bool{}, logf: t.Logf}
	s.cfg = &gossh.ServerConfig{PublicKeyCallback: s.checkKey}
	if opts.password != "" {
		s.cfg.PasswordCallback = func(_ gossh.ConnMetadata, pw []byte) (*gossh.Permissions, error) {
			if string(pw) == opts.password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	s.cfg.Ciphers, s.cfg.KeyExchanges = opts.ciphers, opts.kex
	if len(opts.interactive) > 0 {
		s.cfg.KeyboardInteractiveCallback = func(_ gossh.ConnMetadata, ask gossh.KeyboardInteractiveChallenge) (*gossh.Permissions, error) {
			var qs []string
			for q := range opts.interactive {
				qs = append(qs, q)
			}
			answers, err := ask("", "Answer the bastion", qs, make([]bool, len(qs)))
			if err != nil {
				return nil, err
			}
			for i, q := range qs {
				if i >= len(answers) || answers[i] != opts.interactive[q] {
					return nil, errors.New("wrong answer")
				}
			}
			return nil, nil
		}
	}
	s.cfg.AddHostKey(newSigner(t))
	t.Cleanup(s.shutdown)
	return s
}

// startServer returns a server listening on a free loopback port.
func startServer(t *testing.T, opts serverOpts) *testServer {
	s := newServer(t, opts)
	if err := s.listen(0); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *testServer) checkKey(meta gossh.ConnMetadata, key gossh.PublicKey) (*gossh.Permissions, error) {
	if s.opts.userCA != nil {
		checker := gossh.CertChecker{IsUserAuthority: func(auth gossh.PublicKey) bool {
			return bytes.Equal(auth.Marshal(), s.opts.userCA.Marshal())
		}}
		if _, ok := key.(*gossh.Certificate); ok {
			return checker.Authenticate(meta, key)
		}
	}
	for _, k := range s.opts.authorized {
		if bytes.Equal(k.Marshal(), key.Marshal()) {
			return nil, nil
		}
	}
	return nil, errors.New("unknown key")
}

// listen starts accepting on port; 0 picks a free port and records it.
func (s *testServer) listen(port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.ln = ln
	if port == 0 {
		s.port = ln.Addr().(*net.TCPAddr).Port
	}
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.accept(ln)
	}()
	return nil
}

func (s *testServer) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.conns.Add(1)
		s.mu.Lock()
		s.open[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handleConn(c)
			s.mu.Lock()
			delete(s.open, c)
			s.mu.Unlock()
		}()
	}
}

// dropAll closes every open connection, as a rebooting host would.
func (s *testServer) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.open {
		c.Close()
	}
}

// stop closes the listener and drops connections; listen(s.port) restarts.
func (s *testServer) stop() {
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Unlock()
	s.dropAll()
}

func (s *testServer) shutdown() {
	s.stop()
	s.wg.Wait()
}

func (s *testServer) receivedSignals() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.signals...)
}

func (s *testServer) handleConn(c net.Conn) {
	defer c.Close()
	sc, chans, reqs, err := gossh.NewServerConn(c, s.cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.globalRequests(reqs) })
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			wg.Go(func() { s.session(ctx, nc) })
		case "direct-tcpip":
			wg.Go(func() { s.forward(nc) })
		default:
			nc.Reject(gossh.UnknownChannelType, "no")
		}
	}
	cancel() // the connection is gone: kill its commands
	wg.Wait()
}

func (s *testServer) globalRequests(reqs <-chan *gossh.Request) {
	for req := range reqs {
		if req.Type == "keepalive@openssh.com" {
			s.keepalives.Add(1)
			if s.opts.ignoreKeepalive {
				continue
			}
		}
		if req.WantReply {
			req.Reply(false, nil) // as OpenSSH does for keepalives
		}
	}
}

// forward serves direct-tcpip channels to loopback addresses.
func (s *testServer) forward(nc gossh.NewChannel) {
	var p struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if !s.opts.allowForward || gossh.Unmarshal(nc.ExtraData(), &p) != nil || p.Host != "127.0.0.1" {
		nc.Reject(gossh.Prohibited, "forwarding refused")
		return
	}
	target, err := net.Dial("tcp", net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port))))
	if err != nil {
		nc.Reject(gossh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		target.Close()
		return
	}
	s.forwards.Add(1)
	go gossh.DiscardRequests(reqs)
	done := make(chan struct{}, 2)
	go func() { io.Copy(ch, target); ch.CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(target, ch); target.Close(); done <- struct{}{} }()
	<-done
	ch.Close()
	target.Close()
	<-done
}

// session serves one session channel: exec, sftp, pty-req and signal.
func (s *testServer) session(ctx context.Context, nc gossh.NewChannel) {
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	var (
		wg   sync.WaitGroup
		proc *exec.Cmd
	)
	for req := range reqs {
		ok := false
		switch req.Type {
		case "pty-req", "env":
			ok = true
		case "exec":
			var p struct{ Command string }
			if gossh.Unmarshal(req.Payload, &p) == nil && proc == nil {
				// Reply before starting, as sshd does: a quick command
				// could otherwise close the channel before the reply.
				req.Reply(true, nil)
				proc = s.start(ctx, ch, p.Command, &wg)
				continue
			}
		case "subsystem":
			var p struct{ Name string }
			if gossh.Unmarshal(req.Payload, &p) == nil && p.Name == "sftp" && !s.opts.noSFTP {
				ok = true
				wg.Go(func() { s.serveSFTP(ch) })
			}
		case "signal":
			var p struct{ Signal string }
			gossh.Unmarshal(req.Payload, &p)
			s.mu.Lock()
			s.signals = append(s.signals, p.Signal)
			s.mu.Unlock()
			if p.Signal == "KILL" && proc != nil {
				proc.Process.Kill()
			}
		}
		if req.WantReply {
			req.Reply(ok, nil)
		}
	}
	wg.Wait()
}

// start runs command with sh -c. Like sshd it sends EOF when the
// command's output ends, without waiting for the client's stdin; a waiter
// owned by wg reports the exit status and closes the channel.
func (s *testServer) start(ctx context.Context, ch gossh.Channel, command string, wg *sync.WaitGroup) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir, cmd.WaitDelay = s.dir, 2*time.Second
	stdin, err1 := cmd.StdinPipe()
	stdout, err2 := cmd.StdoutPipe()
	stderr, err3 := cmd.StderrPipe()
	if err := errors.Join(err1, err2, err3, cmd.Start()); err != nil {
		s.logf("test server: start %q: %v", command, err)
		ch.Close()
		return nil
	}
	wg.Go(func() {
		io.Copy(stdin, ch) // ends when the client sends EOF or the channel closes
		stdin.Close()
	})
	wg.Go(func() {
		var out sync.WaitGroup
		out.Go(func() { io.Copy(ch, stdout) })
		out.Go(func() { io.Copy(ch.Stderr(), stderr) })
		out.Wait()
		ch.CloseWrite()
		cmd.Wait()
		status := cmd.ProcessState.ExitCode()
		if status < 0 {
			status = 128 + 9
		}
		ch.SendRequest("exit-status", false, gossh.Marshal(struct{ Status uint32 }{uint32(status)}))
		ch.Close()
	})
	return cmd
}

func (s *testServer) serveSFTP(ch gossh.Channel) {
	srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.dir))
	if err != nil {
		ch.Close()
		return
	}
	srv.Serve()
	srv.Close()
	ch.SendRequest("exit-status", false, gossh.Marshal(struct{ Status uint32 }{0}))
	ch.Close()
}

// opts returns client options for this server authenticating with signer.
func (s *testServer) clientOpts(signer gossh.Signer) Options {
	o := Options{Host: "127.0.0.1", Port: s.port, User: "tester", Timeout: 20 * time.Second}
	if signer != nil {
		o.Signers = []gossh.Signer{signer}
	}
	return o
}
