package sweep

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// Sessions is the Connector of `imgbuild cleanup`: the environment's
// access and, given a template, the access each of its builds uses, so
// that a run made with a profile or an assumed role can be finished with
// them. A session is made on first use, once per distinct access (one sts
// GetCallerIdentity each), and reused; a template is loaded on first use
// too, so that a cleanup with nothing to do reads neither.
type Sessions struct {
	// Env is the environment's access (AWS_PROFILE, AWS_REGION, ...): for
	// tag sweeps, and for the builds Template does not name.
	Env awsapi.Access
	// Template, when set, returns the access of each build of the
	// template TemplatePath, by full build name.
	Template     func(ctx context.Context) (map[string]awsapi.Access, error)
	TemplatePath string
	// Options are passed to every awsapi.NewSession.
	Options []awsapi.Option

	mu       sync.Mutex
	loaded   bool
	builds   map[string]awsapi.Access
	loadErr  error
	sessions []opened
}

// opened is one NewSession outcome, errors included, so a bad access is
// tried once.
type opened struct {
	access awsapi.Access
	sess   *awsapi.Session
	err    error
}

// Connect returns the access for the build that recorded rec: the
// template's access of rec.Build when Template names it, else Env; through
// rec.CustomEndpointEC2 when set. It is safe for concurrent use.
func (s *Sessions) Connect(ctx context.Context, rec journal.Access) (Access, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, from, err := s.accessOf(ctx, rec.Build)
	if err != nil {
		return Access{}, err
	}
	if rec.CustomEndpointEC2 != "" {
		a.CustomEndpointEC2 = rec.CustomEndpointEC2
	}
	sess, err := s.open(ctx, a)
	if err != nil {
		return Access{}, fmt.Errorf("connect to AWS with %s: %w", from, err)
	}
	return Access{Session: sess, Settings: AccessRecord(rec.Build, a, sess.Identity()), From: from}, nil
}

// accessOf returns the access for build and where it comes from. s.mu is
// held.
func (s *Sessions) accessOf(ctx context.Context, build string) (awsapi.Access, string, error) {
	const env = "the environment's credentials"
	if s.Template == nil || build == "" {
		return s.Env, env, nil
	}
	if !s.loaded {
		s.builds, s.loadErr = s.Template(ctx)
		s.loaded = true
	}
	if s.loadErr != nil {
		return awsapi.Access{}, "", fmt.Errorf("read the access of template %s: %w", s.TemplatePath, s.loadErr)
	}
	if a, ok := s.builds[build]; ok {
		return a, fmt.Sprintf("the credentials of template %s", s.TemplatePath), nil
	}
	return s.Env, env + fmt.Sprintf(" (template %s has no build %s)", s.TemplatePath, build), nil
}

// open returns the session for a, made once. s.mu is held.
func (s *Sessions) open(ctx context.Context, a awsapi.Access) (*awsapi.Session, error) {
	for _, o := range s.sessions {
		if reflect.DeepEqual(o.access, a) {
			return o.sess, o.err
		}
	}
	sess, err := awsapi.NewSession(ctx, a, s.Options...)
	s.sessions = append(s.sessions, opened{access: a, sess: sess, err: err})
	return sess, err
}
