package lease

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/google/uuid"

	"github.com/imgbuild/imgbuild/internal/awsapi"
)

// Prefix is the SSM path under which leases are kept.
const Prefix = "/imgbuild/lease/"

// ErrLost says a lease is no longer held by its Lease: it expired before it
// was renewed, or another runner took it over or deleted it.
var ErrLost = errors.New("lease lost")

// SSMAPI is the part of the SSM client a lease uses.
type SSMAPI interface {
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, opts ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
}

// Holder describes who holds a lease, as read from its value.
type Holder struct {
	Holder  string    `json:"holder"`
	RunID   string    `json:"run_id"`
	Expires time.Time `json:"expires"`
}

func (h Holder) String() string {
	return fmt.Sprintf("%s (run %s) until %s", h.Holder, h.RunID, h.Expires.UTC().Format(time.RFC3339))
}

// Polling intervals while a lease is held (variables for tests).
var (
	minPoll = time.Second
	maxPoll = 15 * time.Second
)

// takeoverGrace is how long a takeover marker may stand before the next
// taker considers its creator dead and races for the next generation.
const takeoverGrace = time.Minute

var fingerprintRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,200}$`)

// Lease is a held lease. Keep it alive with KeepAlive (or Renew) while the
// build runs and Release it when done, also on failure or interrupt (with a
// context that is not already cancelled, e.g. context.WithoutCancel).
type Lease struct {
	c      SSMAPI
	region string
	name   string
	ttl    time.Duration
	holder string
	runID  string
	tags   []types.Tag // put on the parameter when we create it

	mu       sync.Mutex // serialises Renew and Release; guards the fields below
	value    string     // the parameter value we wrote last
	expires  time.Time
	released bool
	keep     *keeper
}

// Name returns the SSM parameter name of the lease.
func (l *Lease) Name() string { return l.name }

// RunID returns the random ID that tells this lease from another lease of
// the same holder.
func (l *Lease) RunID() string { return l.runID }

// Expires returns the expiry last written.
func (l *Lease) Expires() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.expires
}

// Acquire takes the lease on fingerprint in region through c, waiting while
// another runner holds it and taking it over once it has expired. holder
// names this runner for the others ("ci-7 pid 4242"); ttl is how long the
// lease lasts unless renewed. poll, if not nil, is called each time the
// lease is found held by someone else, before waiting. Acquire returns when
// the lease is ours or with ctx's error, saying who held it.
//
// tags, when given, are put on the parameter when this runner creates it
// (SSM tags a parameter only at creation; a takeover keeps the tags of
// the runner that created it).
func Acquire(ctx context.Context, c SSMAPI, region, fingerprint, holder string, ttl time.Duration, poll func(Holder),
	tags ...map[string]string) (*Lease, error) {
	if !fingerprintRE.MatchString(fingerprint) {
		return nil, fmt.Errorf("lease: fingerprint %q is not usable in an SSM parameter name (letters, digits, _ . -)", fingerprint)
	}
	if ttl < time.Second {
		return nil, fmt.Errorf("lease: ttl %s is too short (at least 1s)", ttl)
	}
	l := &Lease{c: c, region: region, name: Name(fingerprint), ttl: ttl, holder: holder, runID: uuid.NewString()}
	for _, t := range tags {
		for k, v := range t {
			l.tags = append(l.tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
	}
	wait := minPoll
	for {
		held, err := l.try(ctx)
		if err != nil {
			return nil, err
		}
		if held == nil {
			return l, nil
		}
		if held.RunID == "" {
			// Released between our create and our read: try again soon.
			if err := sleep(ctx, min(wait, 200*time.Millisecond)); err != nil {
				return nil, fmt.Errorf("wait for lease %s in %s: %w", l.name, region, err)
			}
			continue
		}
		if poll != nil {
			poll(*held)
		}
		d := wait
		if left := time.Until(held.Expires); left > 0 && left < d {
			d = left + 10*time.Millisecond // look again just after it expires
		}
		if err := sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("wait for lease %s in %s, held by %s: %w", l.name, region, held, err)
		}
		wait = min(wait*2, maxPoll)
	}
}

// try makes one attempt: nil when the lease is now ours, else who holds it.
func (l *Lease) try(ctx context.Context) (*Holder, error) {
	v, exp := l.newValue()
	_, err := l.c.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(l.name), Value: aws.String(v), Type: types.ParameterTypeString,
		Overwrite: aws.Bool(false), Description: aws.String("imgbuild build lease"), Tags: l.tags,
	})
	if err == nil {
		l.set(v, exp)
		return nil, nil
	}
	if !awsapi.IsDuplicate(err) {
		return nil, fmt.Errorf("create lease %s in %s: %w", l.name, l.region, err)
	}
	p, err := l.get(ctx, l.name)
	if err != nil || p == nil {
		return &Holder{}, err // released in between (p == nil): try again
	}
	cur := l.parse(p)
	switch {
	case cur.RunID == l.runID:
		// Our own create, retried by the SDK after a lost answer.
		l.set(aws.ToString(p.Value), cur.Expires)
		return nil, nil
	case time.Now().Before(cur.Expires):
		return &cur, nil
	}
	ok, err := l.takeOver(ctx, aws.ToString(p.Value))
	if err != nil || ok {
		return nil, err
	}
	return &cur, nil
}

// takeOver replaces the expired value observed, if exactly this runner wins
// the marker for it and the value has not changed since. See doc.go.
func (l *Lease) takeOver(ctx context.Context, observed string) (bool, error) {
	base := markerBase(l.name, observed)
	gen := 1
	for ; ; gen++ {
		marker := fmt.Sprintf("%s.%d", base, gen)
		_, err := l.c.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(marker), Value: aws.String(l.runID), Type: types.ParameterTypeString,
			Overwrite: aws.Bool(false), Description: aws.String("imgbuild lease takeover marker"),
		})
		if err == nil {
			break
		}
		if !awsapi.IsDuplicate(err) {
			return false, fmt.Errorf("take over expired lease %s in %s: create marker: %w", l.name, l.region, err)
		}
		m, err := l.get(ctx, marker)
		if err != nil || m == nil {
			return false, err // a takeover just finished: look at the lease again
		}
		if time.Since(aws.ToTime(m.LastModifiedDate)) < takeoverGrace {
			return false, nil // another runner is taking over right now
		}
	}
	defer l.deleteMarkers(ctx, base, gen)
	p, err := l.get(ctx, l.name)
	if err != nil || p == nil || aws.ToString(p.Value) != observed {
		return false, err // renewed, released or taken over in between
	}
	v, exp := l.newValue()
	if _, err := l.c.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(l.name), Value: aws.String(v), Type: types.ParameterTypeString, Overwrite: aws.Bool(true),
	}); err != nil {
		return false, fmt.Errorf("take over expired lease %s in %s: %w", l.name, l.region, err)
	}
	l.set(v, exp)
	return true, nil
}

// markerBase is the name of the takeover markers for the value observed
// in lease name, without the generation.
func markerBase(name, observed string) string {
	sum := sha256.Sum256([]byte(observed))
	return name + ".takeover." + hex.EncodeToString(sum[:8])
}

// deleteMarkers removes the takeover markers base.1 to base.n. Failures
// are harmless (a marker only guards a value that is gone, and the re-read
// after winning one catches that), so they are ignored.
func (l *Lease) deleteMarkers(ctx context.Context, base string, n int) {
	ctx = context.WithoutCancel(ctx)
	for gen := 1; gen <= n; gen++ {
		_, _ = l.c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(fmt.Sprintf("%s.%d", base, gen))})
	}
}

// get reads a parameter; nil without error when it does not exist.
func (l *Lease) get(ctx context.Context, name string) (*types.Parameter, error) {
	out, err := l.c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	switch {
	case awsapi.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read lease %s in %s: %w", name, l.region, err)
	case out.Parameter == nil:
		return nil, fmt.Errorf("read lease %s in %s: empty answer", name, l.region)
	}
	return out.Parameter, nil
}

// parse reads a lease value. A value that is not ours to read (written by
// hand, say) counts as held by "unknown" until its last change plus ttl.
func (l *Lease) parse(p *types.Parameter) Holder {
	var h Holder
	if err := json.Unmarshal([]byte(aws.ToString(p.Value)), &h); err != nil || h.Expires.IsZero() {
		return Holder{Holder: "unknown", RunID: "?", Expires: aws.ToTime(p.LastModifiedDate).Add(l.ttl)}
	}
	return h
}

func (l *Lease) newValue() (string, time.Time) {
	exp := time.Now().Add(l.ttl).UTC().Truncate(time.Millisecond)
	b, _ := json.Marshal(Holder{Holder: l.holder, RunID: l.runID, Expires: exp})
	return string(b), exp
}

func (l *Lease) set(v string, exp time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.value, l.expires = v, exp
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
