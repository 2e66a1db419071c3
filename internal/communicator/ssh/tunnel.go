package ssh

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	gossh "golang.org/x/crypto/ssh"
)

// Tunnel is a port forwarded over the SSH connection, in Packer's
// "port:host:hostport" form (ssh_local_tunnels, ssh_remote_tunnels).
type Tunnel struct {
	// Port is the listening port, on localhost of the side that listens.
	Port int
	// Forward is the "host:hostport" address connections are forwarded to.
	Forward string
}

// String returns the tunnel in "port:host:hostport" form.
func (t Tunnel) String() string { return strconv.Itoa(t.Port) + ":" + t.Forward }

// ParseTunnel parses Packer's "port:host:hostport" tunnel form.
func ParseTunnel(s string) (Tunnel, error) {
	port, forward, ok := strings.Cut(s, ":")
	if !ok {
		return Tunnel{}, fmt.Errorf("%q is not of the form port:host:hostport", s)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return Tunnel{}, fmt.Errorf("%q: the listening port %q is not a TCP port from 1 to 65535", s, port)
	}
	host, hostPort, err := net.SplitHostPort(forward)
	if err != nil || host == "" {
		return Tunnel{}, fmt.Errorf("%q: %q is not a host:hostport address", s, forward)
	}
	if hp, err := strconv.Atoi(hostPort); err != nil || hp < 1 || hp > 65535 {
		return Tunnel{}, fmt.Errorf("%q: the forwarded port %q is not a TCP port from 1 to 65535", s, hostPort)
	}
	return Tunnel{Port: p, Forward: forward}, nil
}

func (t Tunnel) listenAddr() string { return net.JoinHostPort("localhost", strconv.Itoa(t.Port)) }

// tunnels are the listeners of one connection's tunnels; close stops them
// and the connections they carry.
type tunnels struct {
	mu        sync.Mutex
	listeners []net.Listener
	conns     map[io.Closer]bool
	wg        sync.WaitGroup
}

// openTunnels opens the local tunnels (listening here, forwarded from the
// instance: ssh -L) and the remote tunnels (listening on the instance,
// forwarded from here: ssh -R) of opts on client.
func openTunnels(client *gossh.Client, local, remote []Tunnel, log hclog.Logger) (*tunnels, error) {
	ts := &tunnels{conns: map[io.Closer]bool{}}
	for _, t := range local {
		ln, err := net.Listen("tcp", t.listenAddr())
		if err != nil {
			ts.close()
			return nil, fmt.Errorf("local tunnel %s: %w", t, err)
		}
		log.Info("ssh local tunnel open", "listen", ln.Addr().String(), "forward", t.Forward)
		ts.serve(ln, func() (net.Conn, error) { return client.Dial("tcp", t.Forward) }, log)
	}
	for _, t := range remote {
		ln, err := client.Listen("tcp", t.listenAddr())
		if err != nil {
			ts.close()
			return nil, fmt.Errorf("remote tunnel %s: %w", t, err)
		}
		log.Info("ssh remote tunnel open", "listen", t.listenAddr(), "forward", t.Forward)
		ts.serve(ln, func() (net.Conn, error) { return net.Dial("tcp", t.Forward) }, log)
	}
	return ts, nil
}

// serve accepts on ln until it is closed and joins each connection to one
// dial returns.
func (ts *tunnels) serve(ln net.Listener, dial func() (net.Conn, error), log hclog.Logger) {
	ts.mu.Lock()
	ts.listeners = append(ts.listeners, ln)
	ts.mu.Unlock()
	ts.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			ts.wg.Go(func() {
				out, err := dial()
				if err != nil {
					log.Warn("ssh tunnel: forward failed", "listen", ln.Addr().String(), "error", err)
					in.Close()
					return
				}
				if !ts.track(in, out) {
					return
				}
				join(in, out)
				ts.untrack(in, out)
			})
		}
	})
}

func (ts *tunnels) track(cs ...io.Closer) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.conns == nil { // closed
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		ts.conns[c] = true
	}
	return true
}

func (ts *tunnels) untrack(cs ...io.Closer) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, c := range cs {
		delete(ts.conns, c)
	}
}

// join copies both ways until either side ends, then closes both.
func join(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
	a.Close()
	b.Close()
}

// close stops listening, closes the tunnelled connections and waits for
// their goroutines. It may be called on a nil *tunnels.
func (ts *tunnels) close() {
	if ts == nil {
		return
	}
	ts.mu.Lock()
	for _, ln := range ts.listeners {
		ln.Close()
	}
	for c := range ts.conns {
		c.Close()
	}
	ts.conns = nil
	ts.mu.Unlock()
	ts.wg.Wait()
}
