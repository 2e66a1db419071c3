package lease

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// Renew extends the lease by its ttl from now. It returns an error wrapping
// ErrLost when the lease is no longer ours: its expiry passed before this
// renewal (another runner may have taken it over), or its value is not the
// one we wrote.
func (l *Lease) Renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return fmt.Errorf("renew lease %s in %s: already released", l.name, l.region)
	}
	if !time.Now().Before(l.expires) {
		return fmt.Errorf("renew lease %s in %s: it expired at %s: %w", l.name, l.region, l.expires.Format(time.RFC3339), ErrLost)
	}
	p, err := l.get(ctx, l.name)
	if err != nil {
		return fmt.Errorf("renew: %w", err)
	}
	if p == nil {
		return fmt.Errorf("renew lease %s in %s: it was deleted: %w", l.name, l.region, ErrLost)
	}
	if aws.ToString(p.Value) != l.value {
		return fmt.Errorf("renew lease %s in %s: now held by %s: %w", l.name, l.region, l.parse(p), ErrLost)
	}
	v, exp := l.newValue()
	if _, err := l.c.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(l.name), Value: aws.String(v), Type: types.ParameterTypeString, Overwrite: aws.Bool(true),
	}); err != nil {
		return fmt.Errorf("renew lease %s in %s: %w", l.name, l.region, err)
	}
	l.value, l.expires = v, exp
	return nil
}

// keeper is the goroutine KeepAlive starts.
type keeper struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// KeepAlive renews the lease every third of its ttl until ctx is done or
// Release is called. A failed renewal is retried at the next tick; the
// returned channel receives one error (wrapping ErrLost) when the lease is
// lost, after which the goroutine stops; it is closed when the goroutine
// ends. The build should stop when the lease is lost: another runner may
// be building the same fingerprint. Calling KeepAlive twice is an error
// reported on the channel.
func (l *Lease) KeepAlive(ctx context.Context) <-chan error {
	lost := make(chan error, 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keep != nil || l.released {
		lost <- fmt.Errorf("keep lease %s in %s alive: already kept alive or released", l.name, l.region)
		close(lost)
		return lost
	}
	ctx, cancel := context.WithCancel(ctx)
	k := &keeper{cancel: cancel, done: make(chan struct{})}
	l.keep = k
	go func() {
		defer close(k.done)
		defer close(lost)
		t := time.NewTicker(l.ttl / 3)
		defer t.Stop()
		var last error
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := l.Renew(ctx)
			switch {
			case err == nil:
				last = nil
			case ctx.Err() != nil:
				return
			case isLost(err):
				lost <- err
				return
			default:
				last = err
				if !time.Now().Before(l.Expires()) {
					lost <- fmt.Errorf("%w (last renewal: %v)", ErrLost, last)
					return
				}
			}
		}
	}()
	return lost
}

// stopKeeper stops the KeepAlive goroutine, if any, and waits for it. It
// must be called without l.mu held (the goroutine takes it to renew).
func (l *Lease) stopKeeper() {
	l.mu.Lock()
	k := l.keep
	l.mu.Unlock()
	if k != nil {
		k.cancel()
		<-k.done
	}
}

// Release stops KeepAlive and deletes the lease if it is still ours and
// unexpired; a lease that expired is left alone, because another runner
// may have taken it over (it is free for the next runner anyway). Call it
// on success, failure and interrupt alike, with a live context.
func (l *Lease) Release(ctx context.Context) error {
	l.stopKeeper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return nil
	}
	l.released = true
	if !time.Now().Before(l.expires) {
		return nil
	}
	p, err := l.get(ctx, l.name)
	if err != nil {
		return fmt.Errorf("release: %w", err)
	}
	if p == nil || aws.ToString(p.Value) != l.value {
		return nil // deleted or taken over: not ours to delete
	}
	if _, err := l.c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(l.name)}); err != nil {
		return fmt.Errorf("release lease %s in %s (it expires by itself at %s): %w", l.name, l.region, l.expires.Format(time.RFC3339), err)
	}
	return nil
}

func isLost(err error) bool { return errors.Is(err, ErrLost) }
