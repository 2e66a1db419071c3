package wsman

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Command is one command a client runs in a shell.
type Command struct {
	Line   string    // the command, then each argument, joined by single spaces
	User   string    // the authenticated user
	Stdin  io.Reader // what the client sends (EOF when the client sends end-of-stream or the command is closed)
	Stdout io.Writer // streamed to the client as written (each Receive returns what is there)
	Stderr io.Writer
}

// Executor runs commands. ctx is cancelled when the client signals terminate,
// deletes the shell, or the server closes. Exec returns the exit code.
type Executor interface {
	Exec(ctx context.Context, cmd *Command) int
}

// Options configure a Server.
type Options struct {
	// Exec runs the commands clients send. Required.
	Exec Executor
	// Password returns the password of an account. It is called with the
	// user name as the client sent it (without the domain, for NTLM) and
	// should compare names case-insensitively, as Windows does. No
	// function means no accounts.
	Password func(user string) (password string, ok bool)
	// AuthFailed, if set, is called with the user name of every request
	// whose credentials do not match an account (an addition to the shared
	// spec, so that a simulated guest can record failed logins). Requests
	// without credentials, such as the first step of NTLM, do not count.
	AuthFailed func(user string)
	// Logger may be nil.
	Logger hclog.Logger
}

// Server is a WS-Management server speaking the WinRM remote shell
// protocol (see doc.go).
type Server struct {
	opts       Options
	log        hclog.Logger
	challenges challenges

	ctx    context.Context // cancelled by Close; parent of every shell
	cancel context.CancelFunc

	mu        sync.Mutex
	shells    map[string]*shell
	listening bool
	closed    bool
	servers   []*http.Server
	addrs     [2]string // bound HTTP and HTTPS addresses
	serving   sync.WaitGroup
}

// maxPoll caps how long a Receive waits for output whatever the client's
// OperationTimeout, so that a client polls at least this often.
const maxPoll = 5 * time.Second

// maxRequest bounds a request body (masterzen/winrm sends at most its
// MaxEnvelopeSize, 150 KiB by default).
const maxRequest = 4 << 20

// NewServer returns a server that runs commands with opts.Exec. It serves
// nothing until Listen, or it can be mounted as an http.Handler.
func NewServer(opts Options) *Server {
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{opts: opts, log: log, ctx: ctx, cancel: cancel, shells: map[string]*shell{}}
}

// ServeHTTP answers WS-Management requests on path /wsman; Basic and NTLM
// (Negotiate) auth. NTLM connection state needs the server's own listeners
// (Listen); mounted elsewhere, every NTLM request does the full handshake.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.URL.Path, "/wsman") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	user, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest))
	if err != nil {
		return // the client went away
	}
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		writeFault(w, "", fault{"s:Sender", "w:SchemaValidationError", 0, "The request is not a valid SOAP envelope: " + err.Error()})
		return
	}
	s.log.Trace("request", "action", env.Header.Action, "user", user)
	s.dispatch(w, r, user, &env)
}

// Listen serves HTTP on httpAddr and HTTPS on httpsAddr (either may be "" to skip) until Close.
// cert is used for HTTPS; SelfSigned makes one. It returns once the
// listeners are open; when one cannot be opened it closes the others and
// returns the error. A Server listens once.
func (s *Server) Listen(httpAddr, httpsAddr string, cert tls.Certificate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return errors.New("wsman: server closed")
	case s.listening:
		return errors.New("wsman: server already listening")
	}
	var lns [2]net.Listener
	for i, addr := range []string{httpAddr, httpsAddr} {
		if addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if lns[0] != nil {
				lns[0].Close()
			}
			return fmt.Errorf("wsman: listen on %s: %w", addr, err)
		}
		s.addrs[i] = ln.Addr().String()
		if i == 1 {
			// HTTP/1.1 only: NTLM authenticates connections.
			ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
		}
		lns[i] = ln
	}
	s.listening = true
	for _, ln := range lns {
		if ln == nil {
			continue
		}
		srv := &http.Server{
			Handler:           s,
			ConnContext:       withConnState,
			ReadHeaderTimeout: 30 * time.Second,
			ErrorLog:          s.log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
		}
		s.servers = append(s.servers, srv)
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("serve", "addr", ln.Addr().String(), "error", err)
			}
		}()
	}
	return nil
}

// Addrs returns the addresses Listen bound, such as "127.0.0.1:5985", ""
// for one not served; useful when Listen was given port 0.
func (s *Server) Addrs() (httpAddr, httpsAddr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrs[0], s.addrs[1]
}

// Close stops listening, drops every open connection, cancels every running command. Idempotent.
// It returns once the listeners are closed; it does not wait for the
// executors, which should return soon after their context is cancelled
// (so an executor may itself call Close, to simulate a restart).
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	servers := s.servers
	s.shells = map[string]*shell{}
	s.mu.Unlock()

	// Drop the connections before cancelling the commands, so that no
	// client sees a command end normally because the server closed.
	var errs []error
	for _, srv := range servers {
		if err := srv.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.cancel()
	s.serving.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("wsman: close: %w", err)
	}
	return nil
}
