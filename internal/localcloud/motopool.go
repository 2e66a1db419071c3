package localcloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// MotoPool keeps moto_servers (with the catalogue) between local clouds,
// for test suites that start many: a cloud started with the pool
// (Options.Moto) takes an idle server, reset to its first state, instead
// of starting one (Python's start and moto's first requests cost seconds
// of CPU each time), and gives it back when it closes. The zero value is
// ready; Close stops the idle servers.
type MotoPool struct {
	mu     sync.Mutex
	idle   []*motoProcess
	closed bool
}

// take returns an idle server of the pool, its output going to log, or a
// new one.
func (p *MotoPool) take(ctx context.Context, log hclog.Logger) (*motoProcess, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("the moto_server pool is closed")
	}
	for len(p.idle) > 0 {
		m := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		select {
		case <-m.done: // exited while idle
			m.removeOverlay()
			continue
		default:
		}
		p.mu.Unlock()
		m.out.set(motoLogWriter(log))
		log.Debug("moto_server taken from the pool", "url", m.url.String(), "pid", m.pid())
		return m, nil
	}
	p.mu.Unlock()
	return startMoto(ctx, log)
}

// give resets m (every backend, as moto_server's /moto-api/reset does:
// the catalogue stays) and keeps it for the next cloud; a server that
// cannot be reset, or a closed pool, stops it instead.
func (p *MotoPool) give(m *motoProcess) error {
	m.out.set(nil)
	if err := m.reset(); err != nil {
		stopErr := m.stop()
		return errors.Join(fmt.Errorf("reset moto_server for reuse (stopped it): %w", err), stopErr)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return m.stop()
	}
	p.idle = append(p.idle, m)
	return nil
}

// Close stops every idle server (by PID) and refuses further takes;
// servers still in use stop when their cloud closes.
func (p *MotoPool) Close() error {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	errs := make([]error, len(idle))
	var wg sync.WaitGroup
	for i, m := range idle {
		wg.Add(1)
		go func() { // each may take moto_server's grace period
			defer wg.Done()
			errs[i] = m.stop()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// reset empties every moto backend.
func (m *motoProcess) reset() error {
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(m.url.String()+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto_server answered the reset with %s", resp.Status)
	}
	return nil
}

// switchWriter passes writes to the writer of the moment (none: they are
// dropped), so that a pooled moto_server's output goes to the cloud using it.
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *switchWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		return len(b), nil
	}
	return s.w.Write(b)
}

func (s *switchWriter) set(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w = w
}

// motoLogWriter is where moto_server's output goes: log, at trace level.
func motoLogWriter(log hclog.Logger) io.Writer {
	return log.StandardWriter(&hclog.StandardLoggerOptions{ForceLevel: hclog.Trace})
}
