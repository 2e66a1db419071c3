package wsman

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// connKey is the context key of a connection's connState.
type connKey struct{}

// connState is what the server remembers about one client connection: as
// with WinRM on Windows, a connection that completed NTLM stays
// authenticated, so later requests on it may come without credentials
// (go-ntlmssp tries that first).
type connState struct {
	mu   sync.Mutex
	user string
}

func (c *connState) authenticated() string {
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

func (c *connState) setUser(user string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.user = user
}

// withConnState is the http.Server ConnContext hook.
func withConnState(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connState{})
}

// authenticate returns the user a request acts for. When it returns false
// it has already answered 401.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	conn, _ := r.Context().Value(connKey{}).(*connState)
	scheme, data, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case strings.EqualFold(scheme, "Basic"):
		user, pass, ok := r.BasicAuth()
		if ok {
			if want, found := s.password(user); found && subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1 {
				return user, true
			}
		}
		s.authFailed(w, "basic", user)
	case strings.EqualFold(scheme, "Negotiate") || strings.EqualFold(scheme, "NTLM"):
		return s.ntlm(w, conn, scheme, data)
	case scheme == "" && conn.authenticated() != "":
		return conn.authenticated(), true
	default:
		unauthorized(w)
	}
	return "", false
}

// ntlm runs one step of the NTLM handshake carried in Negotiate (or NTLM)
// headers: a NEGOTIATE message gets a 401 with the CHALLENGE, an
// AUTHENTICATE message with a valid NTLMv2 response authenticates the
// request and its connection.
func (s *Server) ntlm(w http.ResponseWriter, conn *connState, scheme, data string) (string, bool) {
	now := time.Now()
	msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
	if err != nil {
		unauthorized(w)
		return "", false
	}
	switch ntlmType(msg) {
	case ntlmNegotiate:
		ch := s.challenges.issue(now)
		w.Header().Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(challengeMessage(ch, now)))
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusUnauthorized)
	case ntlmAuthenticate:
		a, err := parseAuthenticate(msg)
		if err == nil {
			// The domain takes part in the hash but not in the lookup.
			if pass, found := s.password(a.user); found {
				key := ntowfv2(a.user, a.domain, pass)
				if s.challenges.answer(now, func(ch [8]byte) bool { return ntlmv2OK(key, a.ntResponse, ch) }) {
					conn.setUser(a.user)
					return a.user, true
				}
			}
		}
		conn.setUser("")
		s.authFailed(w, "ntlm", a.user)
	default:
		// Kerberos and other SPNEGO tokens are not supported.
		unauthorized(w)
	}
	return "", false
}

// password looks up an account.
func (s *Server) password(user string) (string, bool) {
	if s.opts.Password == nil || user == "" {
		return "", false
	}
	return s.opts.Password(user)
}

// authFailed answers 401 to credentials that do not match an account.
func (s *Server) authFailed(w http.ResponseWriter, scheme, user string) {
	s.log.Warn("authentication failed", "scheme", scheme, "user", user)
	if s.opts.AuthFailed != nil {
		s.opts.AuthFailed(user)
	}
	unauthorized(w)
}

// unauthorized answers 401 offering the schemes WinRM offers.
func unauthorized(w http.ResponseWriter) {
	w.Header().Add("WWW-Authenticate", "Negotiate")
	w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}
