package winrm

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
	"time"

	"github.com/Azure/go-ntlmssp"
	"github.com/masterzen/winrm/soap"
)

// HTTP limits. WinRM holds a Receive for up to the operation timeout
// (operationTimeout, sent in every request) when a command prints
// nothing, so a response may take that long; responseTimeout adds a
// margin to it and catches a server that stopped answering altogether.
const (
	dialTimeout      = 10 * time.Second
	operationTimeout = 60 * time.Second
	responseTimeout  = operationTimeout + 30*time.Second
	maxResponse      = 32 << 20 // a Receive answer is at most MaxEnvelopeSize (150 KB); this catches nonsense
)

// transport posts SOAP messages to one WS-Management endpoint. It is the
// WinRM equivalent of a connection: an HTTP client with its pool of
// connections, which Reconnect replaces.
type transport struct {
	url      string
	addr     string // host:port, for messages
	user     string
	password string
	ntlm     bool
	pool     *http.Transport
	client   *http.Client
}

func newTransport(o Options) *transport {
	pool := &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		// A new instance's certificate is self-signed; Insecure is the
		// user's explicit choice (winrm_insecure).
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: o.Insecure},
		TLSHandshakeTimeout:   dialTimeout,
		ResponseHeaderTimeout: responseTimeout,
		// Below HTTP.sys's 120s idle timeout, so a pooled connection is
		// not reused just as Windows closes it (a POST is not retried).
		IdleConnTimeout:     60 * time.Second,
		MaxIdleConnsPerHost: 4,
	}
	if o.NoProxy {
		pool.Proxy = nil
	}
	var rt http.RoundTripper = pool
	if o.NTLM {
		// The negotiator turns the Basic credentials of each request
		// into an NTLM handshake when the server asks for one.
		rt = ntlmssp.Negotiator{RoundTripper: pool}
	}
	return &transport{
		url:      o.url(),
		addr:     o.addr(),
		user:     o.User,
		password: o.Password,
		ntlm:     o.NTLM,
		pool:     pool,
		client:   &http.Client{Transport: rt},
	}
}

// close drops the idle connections; requests in flight finish on theirs.
func (t *transport) close() { t.pool.CloseIdleConnections() }

// post sends msg (and frees it) and returns the body of a 200 answer.
// Errors: ctx's error when it is done, *authError for HTTP 401,
// *faultError for a SOAP fault, *netError when no answer came.
func (t *transport) post(ctx context.Context, msg *soap.SoapMessage) (string, error) {
	body := msg.String()
	msg.Free()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.SetBasicAuth(t.user, t.password)
	resp, err := t.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", &netError{err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	switch {
	case err != nil && ctx.Err() != nil:
		return "", ctx.Err()
	case err != nil:
		return "", &netError{fmt.Errorf("read answer from %s: %w", t.addr, err)}
	case resp.StatusCode == http.StatusUnauthorized:
		return "", &authError{user: t.user, addr: t.addr, ntlm: t.ntlm}
	case resp.StatusCode != http.StatusOK:
		return "", parseFault(resp.StatusCode, data)
	}
	return string(data), nil
}

// netError is a request that got no HTTP answer: the instance is not
// reachable (yet) or dropped the connection.
type netError struct{ err error }

func (e *netError) Error() string { return e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

// ErrAuth is matched (with errors.Is) by the error of an operation the
// server refused with HTTP 401: a wrong user name or password.
var ErrAuth = errors.New("winrm authentication failed")

// authError is an HTTP 401. It names the user and the endpoint, never the
// password.
type authError struct {
	user, addr string
	ntlm       bool
}

func (e *authError) Error() string {
	method := "Basic"
	if e.ntlm {
		method = "NTLM"
	}
	return fmt.Sprintf("authentication failed for user %q at %s (HTTP 401, %s): wrong user name or password, or %s authentication not enabled on the instance",
		e.user, e.addr, method, method)
}

func (e *authError) Is(target error) bool { return target == ErrAuth }

// faultError is a SOAP fault (or another non-200 answer) from the server.
type faultError struct {
	status  int
	subcode string // e.g. w:TimedOut
	code    string // the WSManFault code, e.g. 2150858793
	reason  string
}

func (e *faultError) Error() string {
	msg := e.reason
	if msg == "" {
		msg = http.StatusText(e.status)
	}
	if e.subcode != "" {
		return fmt.Sprintf("winrm fault %s (HTTP %d): %s", e.subcode, e.status, msg)
	}
	return fmt.Sprintf("winrm error (HTTP %d): %s", e.status, msg)
}

// timedOut reports whether the fault is WinRM's "no output within the
// operation timeout", which only means "ask again".
func (e *faultError) timedOut() bool {
	return strings.HasSuffix(e.subcode, "TimedOut") || e.code == "2150858793"
}

// isTimedOut reports whether err is a timed-out Receive.
func isTimedOut(err error) bool {
	var f *faultError
	return errors.As(err, &f) && f.timedOut()
}

// parseFault reads the fault's subcode, WSManFault code and message (or
// reason) from a SOAP fault body; other bodies become the reason, cut
// short.
func parseFault(status int, body []byte) *faultError {
	f := &faultError{status: status}
	var path []string
	var message string
	dec := xml.NewDecoder(strings.NewReader(string(body)))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			path = append(path, tok.Name.Local)
			if tok.Name.Local == "WSManFault" {
				for _, a := range tok.Attr {
					if a.Name.Local == "Code" {
						f.code = a.Value
					}
				}
			}
		case xml.EndElement:
			path = path[:max(len(path)-1, 0)]
		case xml.CharData:
			text := strings.TrimSpace(string(tok))
			switch {
			case text == "" || len(path) < 2:
			case path[len(path)-1] == "Value" && path[len(path)-2] == "Subcode":
				f.subcode = text
			case path[len(path)-1] == "Text" && path[len(path)-2] == "Reason":
				f.reason = text
			case path[len(path)-1] == "Message":
				message += text
			}
		}
	}
	if message != "" {
		f.reason = message
	}
	if f.reason == "" && f.subcode == "" {
		f.reason = strings.TrimSpace(string(body))
		if len(f.reason) > 200 {
			f.reason = f.reason[:200] + "..."
		}
	}
	return f
}

// fatal reports whether a failed connection attempt cannot succeed by
// trying again: rejected credentials or an untrusted certificate.
func fatal(err error) bool {
	var cert *tls.CertificateVerificationError
	return errors.Is(err, ErrAuth) || errors.As(err, &cert)
}
