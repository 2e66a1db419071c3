package wsman

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// shell is an open remote shell and the commands started in it.
type shell struct {
	id       string
	ctx      context.Context // cancelled when the shell is deleted or the server closes
	cancel   context.CancelFunc
	commands map[string]*command // guarded by Server.mu
}

// command is a command started in a shell.
type command struct {
	id     string
	cancel context.CancelFunc
	stdin  *input
	out    *output
}

// maxChunk bounds the output one Receive returns, keeping the response
// under masterzen/winrm's default MaxEnvelopeSize (150 KiB) once in base64.
const maxChunk = 96 << 10

// dispatch runs the action of an authenticated request.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, user string, env *envelope) {
	id := env.Header.MessageID
	action := strings.TrimSpace(env.Header.Action)
	if action == actionCreate {
		s.create(w, user, env)
		return
	}
	if !isShellAction(action) {
		writeFault(w, id, fault{"s:Sender", "a:ActionNotSupported", 0,
			fmt.Sprintf("The action %s is not supported by the service.", action)})
		return
	}
	sh := s.shell(env.selector("ShellId"))
	if sh == nil {
		writeFault(w, id, faultShellNotFound(env.selector("ShellId")))
		return
	}
	switch action {
	case actionDelete:
		s.deleteShell(sh)
		writeEnvelope(w, http.StatusOK, actionDelete+"Response", id, "")
	case actionCommand:
		s.startCommand(w, sh, user, env)
	case actionSend:
		s.send(w, sh, env)
	case actionReceive:
		s.receive(w, r, sh, env)
	case actionSignal:
		s.signal(w, sh, env)
	}
}

func isShellAction(action string) bool {
	switch action {
	case actionDelete, actionCommand, actionSend, actionReceive, actionSignal:
		return true
	}
	return false
}

// create opens a cmd shell (WS-Transfer Create).
func (s *Server) create(w http.ResponseWriter, user string, env *envelope) {
	if uri := strings.TrimSpace(env.Header.ResourceURI); uri != resourceCmd {
		writeFault(w, env.Header.MessageID, fault{"s:Sender", "w:DestinationUnreachable", 0,
			fmt.Sprintf("The WS-Management service cannot process the request: resource URI %s is not supported.", uri)})
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	sh := &shell{id: strings.ToUpper(uuid.NewString()), ctx: ctx, cancel: cancel, commands: map[string]*command{}}
	s.shells[sh.id] = sh
	s.mu.Unlock()
	s.log.Debug("shell created", "shell", sh.id, "user", user)

	body := fmt.Sprintf(`<x:ResourceCreated><a:Address>%s/role/anonymous</a:Address><a:ReferenceParameters>`+
		`<w:ResourceURI>%s</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">%s</w:Selector></w:SelectorSet>`+
		`</a:ReferenceParameters></x:ResourceCreated>`+
		`<rsp:Shell><rsp:ShellId>%s</rsp:ShellId><rsp:ResourceUri>%s</rsp:ResourceUri><rsp:Owner>%s</rsp:Owner>`+
		`<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`,
		nsAddressing, resourceCmd, sh.id, sh.id, resourceCmd, escape(user))
	writeEnvelope(w, http.StatusOK, actionCreate+"Response", env.Header.MessageID, body)
}

// shell returns the open shell id, or nil.
func (s *Server) shell(id string) *shell {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shells[id]
}

// command returns the command id of sh, or nil.
func (s *Server) command(sh *shell, id string) *command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sh.commands[id]
}

// deleteShell closes sh (WS-Transfer Delete): its commands are cancelled.
func (s *Server) deleteShell(sh *shell) {
	s.mu.Lock()
	delete(s.shells, sh.id)
	s.mu.Unlock()
	sh.cancel()
	s.log.Debug("shell deleted", "shell", sh.id)
}

// startCommand starts a command (rsp:CommandLine) and returns its id at once.
func (s *Server) startCommand(w http.ResponseWriter, sh *shell, user string, env *envelope) {
	cl := env.Body.CommandLine
	line := strings.Join(append([]string{cl.Command}, cl.Arguments...), " ")
	ctx, cancel := context.WithCancel(sh.ctx)
	c := &command{id: strings.ToUpper(uuid.NewString()), cancel: cancel, stdin: newInput(), out: newOutput()}
	s.mu.Lock()
	sh.commands[c.id] = c
	s.mu.Unlock()
	// Cancelling the command ends its input too.
	stopInput := context.AfterFunc(ctx, c.stdin.close)
	s.log.Debug("command started", "shell", sh.id, "command", c.id, "user", user)

	go func() {
		defer cancel()
		defer stopInput()
		exit := s.opts.Exec.Exec(ctx, &Command{
			Line:   line,
			User:   user,
			Stdin:  c.stdin,
			Stdout: streamWriter{o: c.out},
			Stderr: streamWriter{o: c.out, stderr: true},
		})
		c.stdin.close()
		c.out.finish(exit)
		s.log.Debug("command done", "shell", sh.id, "command", c.id, "exit", exit)
	}()

	body := fmt.Sprintf(`<rsp:CommandResponse><rsp:CommandId>%s</rsp:CommandId></rsp:CommandResponse>`, c.id)
	writeEnvelope(w, http.StatusOK, actionCommand+"Response", env.Header.MessageID, body)
}

// send delivers stdin data; End="true" ends the stream.
func (s *Server) send(w http.ResponseWriter, sh *shell, env *envelope) {
	for _, st := range env.Body.Send.Streams {
		c := s.command(sh, st.CommandID)
		if c == nil {
			writeFault(w, env.Header.MessageID, faultCommandNotFound(sh.id, st.CommandID))
			return
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
		if err != nil {
			writeFault(w, env.Header.MessageID, fault{"s:Sender", "w:InvalidParameter", 0, "The stdin stream is not valid base64."})
			return
		}
		c.stdin.write(data)
		if st.End == "true" {
			c.stdin.close()
		}
	}
	writeEnvelope(w, http.StatusOK, actionSend+"Response", env.Header.MessageID, `<rsp:SendResponse/>`)
}

// receive long-polls for output: it answers as soon as there is output or
// the command is done, and with the OperationTimeout fault, which the client
// retries, when nothing came within the request's timeout.
func (s *Server) receive(w http.ResponseWriter, r *http.Request, sh *shell, env *envelope) {
	id := env.Body.Receive.DesiredStream.CommandID
	c := s.command(sh, id)
	if c == nil {
		writeFault(w, env.Header.MessageID, faultCommandNotFound(sh.id, id))
		return
	}
	wait, err := parseDuration(env.Header.OperationTimeout)
	if err != nil || wait > maxPoll {
		wait = maxPoll
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		if s.ctx.Err() != nil {
			return // closing: the connection is gone
		}
		ch, wake := c.out.take(maxChunk)
		if wake == nil {
			writeEnvelope(w, http.StatusOK, actionReceive+"Response", env.Header.MessageID, receiveBody(id, ch))
			return
		}
		select {
		case <-wake:
		case <-timer.C:
			writeFault(w, env.Header.MessageID, faultTimedOut)
			return
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		}
	}
}

// receiveBody renders a ReceiveResponse.
func receiveBody(id string, ch chunk) string {
	var b strings.Builder
	b.WriteString(`<rsp:ReceiveResponse>`)
	stream := func(name string, data []byte) {
		if len(data) > 0 {
			fmt.Fprintf(&b, `<rsp:Stream Name="%s" CommandId="%s">%s</rsp:Stream>`, name, id, base64.StdEncoding.EncodeToString(data))
		}
		if ch.done {
			fmt.Fprintf(&b, `<rsp:Stream Name="%s" CommandId="%s" End="true"></rsp:Stream>`, name, id)
		}
	}
	stream("stdout", ch.stdout)
	stream("stderr", ch.stderr)
	if ch.done {
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"><rsp:ExitCode>%d</rsp:ExitCode></rsp:CommandState>`, id, stateDone, ch.exit)
	} else {
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"/>`, id, stateRunning)
	}
	b.WriteString(`</rsp:ReceiveResponse>`)
	return b.String()
}

// signal handles terminate, ctrl_c and ctrl_break by cancelling the command.
func (s *Server) signal(w http.ResponseWriter, sh *shell, env *envelope) {
	id := env.Body.Signal.CommandID
	c := s.command(sh, id)
	if c == nil {
		writeFault(w, env.Header.MessageID, faultCommandNotFound(sh.id, id))
		return
	}
	code := strings.TrimSpace(env.Body.Signal.Code)
	switch code[strings.LastIndex(code, "/")+1:] {
	case "terminate", "ctrl_c", "ctrl_break":
		c.cancel()
		s.log.Debug("command signalled", "shell", sh.id, "command", id, "signal", code)
	}
	writeEnvelope(w, http.StatusOK, actionSignal+"Response", env.Header.MessageID, `<rsp:SignalResponse/>`)
}
