package ssh

import (
	"context"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/testwait"
)

func TestBastion(t *testing.T) {
	targetKey := newSigner(t)
	target := startServer(t, serverOpts{authorized: []gossh.PublicKey{targetKey.PublicKey()}})
	bastion := startServer(t, serverOpts{password: "jump-pw", allowForward: true})
	closedPort := testwait.FreePort(t)

	tests := []struct {
		name       string
		port       int
		bastionPW  string
		wantErr    []string
		wantTunnel bool
	}{
		{name: "through bastion", port: target.port, bastionPW: "jump-pw", wantTunnel: true},
		{name: "bastion rejects password", port: target.port, bastionPW: "wrong",
			wantErr: []string{"bastion jumper@127.0.0.1:", "unable to authenticate"}},
		{name: "target down behind bastion", port: closedPort, bastionPW: "jump-pw",
			wantErr: []string{"through bastion jumper@127.0.0.1:", "connect failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := bastion.forwards.Load()
			opts := target.clientOpts(targetKey)
			opts.Port, opts.HandshakeAttempts, opts.Timeout = tt.port, 2, time.Second
			opts.Bastion = &Bastion{Host: "127.0.0.1", Port: bastion.port, User: "jumper", Password: tt.bastionPW}
			c, err := Connect(context.Background(), opts)
			if tt.wantErr != nil {
				if err == nil {
					c.Close()
					t.Fatal("Connect succeeded, want an error")
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			defer c.Close()
			if _, out, _ := run(t, c, "echo via bastion"); out != "via bastion\n" {
				t.Errorf("stdout = %q", out)
			}
			if got := bastion.forwards.Load() - before; got != 1 {
				t.Errorf("bastion forwarded %d connections, want 1", got)
			}
		})
	}
}
