package wsman

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/go-ntlmssp"
	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
)

// post sends a SOAP message to srv's HTTP port with the given Authorization
// header over client, and returns the response and its body.
func post(t *testing.T, client *http.Client, srv *Server, auth string, msg *soap.SoapMessage) (*http.Response, string) {
	t.Helper()
	httpAddr, _ := srv.Addrs()
	req, err := http.NewRequest(http.MethodPost, "http://"+httpAddr+"/wsman", strings.NewReader(msg.String()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

func TestUnauthenticatedRequestOffersBothSchemes(t *testing.T) {
	srv := startServer(t, execFunc(func(context.Context, *Command) int { return 0 }))
	resp, _ := post(t, http.DefaultClient, srv, "", winrm.NewOpenShellRequest("", nil))
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	got := resp.Header.Values("Www-Authenticate")
	for _, want := range []string{"Negotiate", `Basic realm="WSMAN"`} {
		if !slices.Contains(got, want) {
			t.Errorf("WWW-Authenticate %q, want it to include %q", got, want)
		}
	}
}

func TestFaults(t *testing.T) {
	srv := startServer(t, execFunc(func(ctx context.Context, _ *Command) int {
		<-ctx.Done()
		return 0
	}))
	auth := basicAuth(testUser, testPassword)
	_, body := post(t, http.DefaultClient, srv, auth, winrm.NewOpenShellRequest("", nil))
	shellID, err := winrm.ParseOpenShellResponse(body)
	if err != nil || shellID == "" {
		t.Fatalf("open shell: %q, %v", shellID, err)
	}
	_, body = post(t, http.DefaultClient, srv, auth, winrm.NewExecuteCommandRequest("", shellID, "wait", nil, nil))
	commandID, err := winrm.ParseExecuteCommandResponse(body)
	if err != nil || commandID == "" {
		t.Fatalf("run command: %q, %v", commandID, err)
	}

	enumerate := soap.NewMessage()
	enumerate.Header().Action("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate").Build()
	enumerate.NewBody()

	for _, tc := range []struct {
		name string
		msg  *soap.SoapMessage
		want []string
		wait time.Duration
	}{
		{"receive times out", winrm.NewGetOutputRequest("", shellID, commandID, "stdout stderr", winrm.NewParameters("PT0.2S", "en-US", 153600)),
			[]string{`Code="2150858793"`, "OperationTimeout", "w:TimedOut"}, 200 * time.Millisecond},
		{"unknown action", enumerate, []string{"a:ActionNotSupported"}, 0},
		{"unknown shell", winrm.NewDeleteShellRequest("", "NOPE", nil), []string{`Code="2150858843"`}, 0},
		{"unknown command", winrm.NewSignalRequest("", shellID, "NOPE", nil), []string{"w:InvalidParameter"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			resp, body := post(t, http.DefaultClient, srv, auth, tc.msg)
			if resp.StatusCode != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/soap+xml") {
				t.Errorf("content type %q", ct)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("fault %s\nwant it to contain %q", body, w)
				}
			}
			if took := time.Since(start); took < tc.wait {
				t.Errorf("answered after %s, want at least %s", took, tc.wait)
			}
		})
	}
}

// TestNTLMHandshake runs NTLM by hand with go-ntlmssp's messages. The
// AUTHENTICATE message goes on a new connection, as the client's pool may
// do under concurrency; a replayed or wrong answer is refused.
func TestNTLMHandshake(t *testing.T) {
	srv := startServer(t, execFunc(func(context.Context, *Command) int { return 0 }))
	oneShot := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	open := winrm.NewOpenShellRequest("", nil)

	handshake := func(user, password string) string {
		negotiate, err := ntlmssp.NewNegotiateMessage("", "")
		if err != nil {
			t.Fatal(err)
		}
		resp, _ := post(t, oneShot, srv, "Negotiate "+base64.StdEncoding.EncodeToString(negotiate), open)
		scheme, data, _ := strings.Cut(resp.Header.Get("Www-Authenticate"), " ")
		if resp.StatusCode != http.StatusUnauthorized || scheme != "Negotiate" {
			t.Fatalf("negotiate: status %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("Www-Authenticate"))
		}
		challenge, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			t.Fatal(err)
		}
		answer, err := ntlmssp.ProcessChallenge(challenge, user, password)
		if err != nil {
			t.Fatal(err)
		}
		return "Negotiate " + base64.StdEncoding.EncodeToString(answer)
	}

	auth := handshake("administrator", testPassword)
	if resp, body := post(t, oneShot, srv, auth, open); resp.StatusCode != http.StatusOK {
		t.Fatalf("authenticate: status %d: %s", resp.StatusCode, body)
	}
	if resp, _ := post(t, oneShot, srv, auth, open); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("replayed authenticate: status %d, want 401", resp.StatusCode)
	}
	if resp, _ := post(t, oneShot, srv, handshake(testUser, "wrong"), open); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want 401", resp.StatusCode)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "PT60S", want: time.Minute},
		{in: "PT0.5S", want: 500 * time.Millisecond},
		{in: "P0DT1H2M3.25S", want: time.Hour + 2*time.Minute + 3250*time.Millisecond},
		{in: "P1D", want: 24 * time.Hour},
		{in: "", bad: true},
		{in: "60", bad: true},
		{in: "PT", want: 0},
		{in: "P1M", bad: true},
		{in: "PTS", bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseDuration(tc.in)
			if (err != nil) != tc.bad || got != tc.want {
				t.Errorf("parseDuration(%q) = %s, %v", tc.in, got, err)
			}
		})
	}
}
