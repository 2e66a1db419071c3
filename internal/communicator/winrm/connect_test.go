package winrm_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgbuild/imgbuild/internal/communicator/winrm"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/internal/testwait"
	"github.com/imgbuild/imgbuild/internal/winguest"
	"github.com/imgbuild/imgbuild/internal/wsman"
)

func TestConnectTransports(t *testing.T) {
	e := startEnv(t, nil)
	tests := []struct {
		name  string
		https bool
		ntlm  bool
	}{
		{name: "basic http"},
		{name: "ntlm http", ntlm: true},
		{name: "basic https insecure", https: true},
		{name: "ntlm https insecure", https: true, ntlm: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := e.opts(t)
			opts.NTLM, opts.HTTPS, opts.Insecure, opts.NoProxy = tt.ntlm, tt.https, tt.https, true
			if tt.https {
				opts.Port = e.https
			}
			c := connect(t, opts)
			if status, out, _ := run(t, c, "echo hello"); status != 0 || out != "hello\r\n" {
				t.Errorf("echo hello = %d, %q; want 0, hello", status, out)
			}
			data := []byte(strings.Repeat("ntlm and tls ", 1000))
			if err := c.Upload(context.Background(), `C:\t\`+strings.ReplaceAll(tt.name, " ", "-"), strings.NewReader(string(data)), 0o644); err != nil {
				t.Fatalf("Upload: %v", err)
			}
		})
	}
}

func TestConnectAuthFailsFast(t *testing.T) {
	e := startEnv(t, nil)
	for _, ntlm := range []bool{false, true} {
		t.Run(fmt.Sprintf("ntlm=%v", ntlm), func(t *testing.T) {
			opts := e.opts(t)
			opts.Password, opts.NTLM, opts.Timeout = "not-the-password", ntlm, time.Minute
			start := time.Now()
			c, err := winrm.Connect(context.Background(), opts)
			if err == nil {
				c.Close()
				t.Fatal("Connect succeeded with a wrong password")
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, winrm.ErrAuth) {
				t.Errorf("error %q does not match ErrAuth", err)
			}
			want := fmt.Sprintf(`authentication failed for user "Administrator" at 127.0.0.1:%d`, e.http)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
			if strings.Contains(err.Error(), opts.Password) {
				t.Errorf("error %q reveals the password", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Connect took %s: the authentication failure was retried", d)
			}
		})
	}
}

func TestConnectHTTPSUntrustedFailsFast(t *testing.T) {
	e := startEnv(t, nil)
	opts := e.opts(t)
	opts.HTTPS, opts.Port, opts.Timeout = true, e.https, time.Minute
	_, err := winrm.Connect(context.Background(), opts)
	if err == nil {
		t.Fatal("Connect verified a self-signed certificate")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "winrm_insecure") {
		t.Errorf("error %q does not suggest winrm_insecure", err)
	}
}

func TestConnectRetriesUntilServerAppears(t *testing.T) {
	g, _ := newGuest(t, nil)
	p := testwait.FreePort(t)
	logger, failed := testwait.LogSignal(t, "winrm connect attempt failed")
	opts := winrm.Options{Host: "127.0.0.1", Port: p, User: testUser, Password: testPassword, Timeout: 20 * time.Second, Logger: logger}

	srv := wsman.NewServer(wsman.Options{Exec: g, Password: g.Password})
	defer srv.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		<-failed // the instance "boots" only after Connect has been refused
		if err := srv.Listen(fmt.Sprintf("127.0.0.1:%d", p), "", tlsCert(t)); err != nil {
			t.Error(err)
		}
	})
	c, err := winrm.Connect(context.Background(), opts)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer c.Close()
	if status, out, _ := run(t, c, "echo up"); status != 0 || out != "up\r\n" {
		t.Errorf("echo up = %d, %q", status, out)
	}
}

func TestConnectGivesUpAtTimeout(t *testing.T) {
	p := testwait.FreePort(t)
	opts := winrm.Options{Host: "127.0.0.1", Port: p, User: testUser, Password: "pw", Timeout: 300 * time.Millisecond}
	_, err := winrm.Connect(context.Background(), opts)
	if err == nil {
		t.Fatal("Connect succeeded with nothing listening")
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q does not match context.DeadlineExceeded", err)
	}
	for _, want := range []string{fmt.Sprintf("Administrator@127.0.0.1:%d", p), "gave up after", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func tlsCert(t *testing.T) tls.Certificate {
	t.Helper()
	cert, err := wsman.SelfSigned("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestConnectRejectsBadOptions(t *testing.T) {
	for _, opts := range []winrm.Options{{User: "u"}, {Host: "h"}, {Host: "h", User: "u", Port: 70000}} {
		if _, err := winrm.Connect(context.Background(), opts); err == nil {
			t.Errorf("Connect(%+v) succeeded", opts)
		}
	}
}

func TestReconnectAfterRestart(t *testing.T) {
	g, gopts := newGuest(t, func(o *winguest.Options) {
		o.RestartDelay = 300 * time.Millisecond
		o.HTTPPort, o.HTTPSPort = testwait.FreePort(t), testwait.FreePort(t)
	})
	if err := g.Boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	opts := winrm.Options{Host: "127.0.0.1", Port: gopts.HTTPPort, User: testUser, Password: testPassword, Timeout: 20 * time.Second, Logger: testLogger(t)}
	c := connect(t, opts)
	status, err := c.Run(context.Background(), &provision.Cmd{Command: `shutdown /r /f /t 0 /c "imgbuild restart"`})
	if err != nil && !errors.Is(err, winrm.ErrDisconnected) {
		t.Fatalf("restart command: %v", err)
	}
	if err == nil && status != 0 {
		t.Fatalf("restart command exit status %d", status)
	}
	testwait.Eventually(t, "the guest going down", func() bool { return !g.Ready() })
	if _, err := c.Run(context.Background(), &provision.Cmd{Command: "echo down"}); !errors.Is(err, winrm.ErrDisconnected) {
		t.Errorf("Run while the guest restarts = %v, want ErrDisconnected", err)
	}
	if err := c.Reconnect(context.Background()); err != nil {
		t.Fatalf("Reconnect: %v", err)
	}
	if status, out, _ := run(t, c, "echo back"); status != 0 || out != "back\r\n" {
		t.Errorf("echo back = %d, %q", status, out)
	}
	if n := len(events(t, g, winguest.KindRestart)); n != 1 {
		t.Errorf("guest log has %d restart events, want 1", n)
	}
	if n := len(events(t, g, winguest.KindBoot)); n != 2 {
		t.Errorf("guest log has %d boot events, want 2", n)
	}
}

func TestCloseEndsOperations(t *testing.T) {
	e := startEnv(t, nil)
	c := connect(t, e.opts(t))
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(context.Background(), &provision.Cmd{Command: "test-block"})
		done <- err
	}()
	testwait.Wait(t, e.exec.blocked, "the command to start")
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, winrm.ErrClosed) {
			t.Errorf("Run after Close = %v, want ErrClosed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after Close")
	}
	testwait.Eventually(t, "the remote command to be cancelled", func() bool { return e.exec.cancelledCount() == 1 })
	if _, err := c.Run(context.Background(), &provision.Cmd{Command: "echo x"}); !errors.Is(err, winrm.ErrClosed) {
		t.Errorf("Run on a closed client = %v, want ErrClosed", err)
	}
}
