package winrm

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	mwinrm "github.com/masterzen/winrm"
)

// cleanupTimeout bounds the requests that release a command or a shell on
// the server; they are sent even when the operation's context is done.
const cleanupTimeout = 10 * time.Second

// stdinChunk is how much of a command's stdin one Send carries.
const stdinChunk = 32 << 10

// params are the WS-Management settings of every request: operation
// timeout, locale and maximum envelope size (WinRM's defaults).
var params = mwinrm.NewParameters(fmt.Sprintf("PT%dS", int(operationTimeout.Seconds())), "en-US", 153600)

// shell is one remote cmd shell, in which commands run one after another.
// masterzen/winrm builds and parses the SOAP messages; the command loop is
// here because the library's Command has no context, hides transport
// errors and can leave its output readers blocked when closed early.
type shell struct {
	t    *transport
	id   string
	log  hclog.Logger
	gone bool // a request got no answer: cleanup requests would wait in vain
}

// openShell creates a shell on the server.
func openShell(ctx context.Context, t *transport, log hclog.Logger) (*shell, error) {
	resp, err := t.post(ctx, mwinrm.NewOpenShellRequest(t.url, params))
	if err != nil {
		return nil, fmt.Errorf("open shell: %w", err)
	}
	id, err := mwinrm.ParseOpenShellResponse(resp)
	if err == nil && id == "" {
		err = errors.New("no shell id")
	}
	if err != nil {
		return nil, fmt.Errorf("open shell: unexpected answer: %w", err)
	}
	return &shell{t: t, id: id, log: log}, nil
}

// close deletes the shell on the server, best effort: a failure only
// leaves a shell that WinRM removes after its idle timeout.
func (s *shell) close(ctx context.Context) {
	if s.gone {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if _, err := s.t.post(ctx, mwinrm.NewDeleteShellRequest(s.t.url, s.id, params)); err != nil {
		s.log.Debug("winrm delete shell failed", "shell", s.id, "error", err)
	}
}

// run runs line in the shell, copying stdin (when not nil) to the command
// and its output to stdout and stderr (nil discards) as it arrives, and
// returns the exit code. When ctx is done the command is terminated. A
// failure to receive the output of a started command is a *commandLost.
func (s *shell) run(ctx context.Context, line string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	resp, err := s.t.post(ctx, mwinrm.NewExecuteCommandRequest(s.t.url, s.id, line, nil, params))
	if err != nil {
		return -1, fmt.Errorf("start command: %w", err)
	}
	id, err := mwinrm.ParseExecuteCommandResponse(resp)
	if err == nil && id == "" {
		err = errors.New("no command id")
	}
	if err != nil {
		return -1, fmt.Errorf("start command: unexpected answer: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	inCtx, stopInput := context.WithCancel(ctx)
	defer stopInput()
	if stdin != nil {
		wg.Go(func() { s.sendInput(inCtx, id, stdin) })
	}
	status, err := s.receive(ctx, id, orDiscard(stdout), orDiscard(stderr))
	var ne *netError
	s.gone = errors.As(err, &ne)
	// Terminating a finished command releases it; terminating a running
	// one (ctx done, output lost) stops it.
	s.signal(ctx, id)
	if err != nil {
		if ctx.Err() != nil {
			return -1, fmt.Errorf("command terminated: %w", ctx.Err())
		}
		var we *writeError
		if errors.As(err, &we) {
			return -1, err
		}
		return -1, &commandLost{err}
	}
	return status, nil
}

// receive polls the command's output until it is done.
func (s *shell) receive(ctx context.Context, id string, stdout, stderr io.Writer) (int, error) {
	out := &firstErrWriter{w: stdout}
	errOut := &firstErrWriter{w: stderr}
	for {
		resp, err := s.t.post(ctx, mwinrm.NewGetOutputRequest(s.t.url, s.id, id, "stdout stderr", params))
		if isTimedOut(err) {
			continue // no output within the operation timeout
		}
		if err != nil {
			return -1, fmt.Errorf("receive output: %w", err)
		}
		done, status, err := parseReceive(resp, out, errOut)
		if err != nil {
			return -1, fmt.Errorf("receive output: %w", err)
		}
		if err := errors.Join(out.err, errOut.err); err != nil {
			return -1, &writeError{err}
		}
		if done {
			return status, nil
		}
	}
}

// sendInput copies r to the command's stdin until EOF (which it sends as
// the end of the stream) or ctx is done.
func (s *shell) sendInput(ctx context.Context, id string, r io.Reader) {
	buf := make([]byte, stdinChunk)
	for {
		n, rerr := r.Read(buf)
		if ctx.Err() != nil {
			return
		}
		if n > 0 {
			if _, err := s.t.post(ctx, mwinrm.NewSendInputRequest(s.t.url, s.id, id, buf[:n], false, params)); err != nil {
				s.log.Debug("winrm send stdin failed", "error", err)
				return
			}
		}
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				s.log.Debug("reading stdin for the remote command failed; sending end of input", "error", rerr)
			}
			if _, err := s.t.post(ctx, mwinrm.NewSendInputRequest(s.t.url, s.id, id, nil, true, params)); err != nil {
				s.log.Debug("winrm send end of stdin failed", "error", err)
			}
			return
		}
	}
}

// signal sends terminate for the command, best effort.
func (s *shell) signal(ctx context.Context, id string) {
	if s.gone {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if _, err := s.t.post(ctx, mwinrm.NewSignalRequest(s.t.url, s.id, id, params)); err != nil {
		s.log.Debug("winrm terminate command failed", "command", id, "error", err)
	}
}

// receiveResponse is the part of a Receive answer imgbuild reads.
type receiveResponse struct {
	Streams []struct {
		Name string `xml:"Name,attr"`
		Data string `xml:",chardata"`
	} `xml:"Body>ReceiveResponse>Stream"`
	State struct {
		State    string `xml:"State,attr"`
		ExitCode string `xml:"ExitCode"`
	} `xml:"Body>ReceiveResponse>CommandState"`
}

// parseReceive writes the output in a Receive answer and reports whether
// the command is done and with which exit code.
func parseReceive(resp string, stdout, stderr io.Writer) (done bool, status int, err error) {
	var r receiveResponse
	if err := xml.Unmarshal([]byte(resp), &r); err != nil {
		return false, 0, fmt.Errorf("unexpected answer: %w", err)
	}
	for _, st := range r.Streams {
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
		if err != nil {
			return false, 0, fmt.Errorf("unexpected %s data: %w", st.Name, err)
		}
		w := stdout
		if st.Name == "stderr" {
			w = stderr
		}
		if len(data) > 0 {
			w.Write(data) // errors are kept by the firstErrWriter
		}
	}
	if !strings.HasSuffix(r.State.State, "/Done") {
		return false, 0, nil
	}
	if _, err := fmt.Sscan(r.State.ExitCode, &status); err != nil {
		return true, 0, fmt.Errorf("command done without a valid exit code %q", r.State.ExitCode)
	}
	return true, status, nil
}

// firstErrWriter writes to w until a write fails, then keeps the error
// and discards the rest.
type firstErrWriter struct {
	w   io.Writer
	err error
}

func (f *firstErrWriter) Write(p []byte) (int, error) {
	if f.err == nil {
		_, f.err = f.w.Write(p)
	}
	return len(p), nil
}

// writeError is a failure to write a command's output locally; it is not
// a lost connection.
type writeError struct{ err error }

func (e *writeError) Error() string { return "write command output: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// commandLost is a started command whose output or exit code could not
// be received: the connection or the command's shell on the server is
// gone (a restarted WinRM service forgets its shells).
type commandLost struct{ err error }

func (e *commandLost) Error() string { return e.err.Error() }
func (e *commandLost) Unwrap() error { return e.err }

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
