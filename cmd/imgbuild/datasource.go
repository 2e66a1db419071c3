package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/datasource/amazonami"
	httpdata "github.com/imgbuild/imgbuild/internal/datasource/http"
	"github.com/imgbuild/imgbuild/internal/datasource/parameterstore"
	"github.com/imgbuild/imgbuild/internal/template"
)

// newDataEvaluator returns what resolves data sources against AWS. The
// loader calls it without a context, so it keeps ctx for the calls it
// makes. A data source that cannot be resolved becomes a template
// diagnostic, so the command exits with exitUsage.
func newDataEvaluator(ctx context.Context, _ *env) (template.DataEvaluator, error) {
	return &dataEvaluator{
		ctx:      ctx,
		sessions: map[[sha256.Size]byte]*sessionResult{},
		results:  map[[sha256.Size]byte]cty.Value{},
	}, nil
}

// dataEvaluator resolves data sources once per run: one awsapi.Session per
// access configuration, one lookup per data source type and configuration.
type dataEvaluator struct {
	ctx context.Context

	mu       sync.Mutex
	sessions map[[sha256.Size]byte]*sessionResult // by access configuration
	results  map[[sha256.Size]byte]cty.Value      // by type and configuration
}

// sessionResult is a cached NewSession outcome, errors included, so bad
// credentials are reported once per access configuration, not retried.
type sessionResult struct {
	sess *awsapi.Session
	err  error
}

// Evaluate resolves ds, whose Config the loader has decoded and checked.
func (d *dataEvaluator) Evaluate(ds *template.DataSource) (cty.Value, error) {
	if c, ok := ds.Config.(*httpdata.Config); ok {
		// No AWS session: the URL is requested as it is, once per run.
		return d.evaluateHTTP(ds, c)
	}
	access, resolve, err := resolverFor(ds.Config)
	if err != nil {
		return cty.NilVal, fmt.Errorf("%s: %w", ds.Ref(), err)
	}
	region := access.Region
	if unsupported := access.UnsupportedSettings(); len(unsupported) > 0 {
		return cty.NilVal, fmt.Errorf("%s: %s not supported when resolving data sources yet; remove it and give credentials through profile, access_key/secret_key, assume_role or the environment",
			ds.Ref(), strings.Join(unsupported, ", "))
	}
	key := cacheKey(ds.Type, ds.Config)
	d.mu.Lock()
	defer d.mu.Unlock()
	if v, ok := d.results[key]; ok {
		return v, nil
	}
	sess, err := d.session(access)
	if err != nil {
		return cty.NilVal, fmt.Errorf("%s: connect to AWS in %s: %w; check the data source's credentials (or the AWS_* environment) and region", ds.Ref(), region, err)
	}
	v, err := resolve(d.ctx, sess)
	if err != nil {
		return cty.NilVal, fmt.Errorf("%s: %w", ds.Ref(), err)
	}
	d.results[key] = v
	return v, nil
}

// evaluateHTTP requests a data "http" URL once per configuration.
func (d *dataEvaluator) evaluateHTTP(ds *template.DataSource, c *httpdata.Config) (cty.Value, error) {
	key := cacheKey(ds.Type, c)
	d.mu.Lock()
	defer d.mu.Unlock()
	if v, ok := d.results[key]; ok {
		return v, nil
	}
	v, err := httpdata.Evaluate(d.ctx, http.DefaultClient, c, func(msg string) {
		hclog.FromContext(d.ctx).Warn(msg, "data", ds.Ref())
	})
	if err != nil {
		return cty.NilVal, fmt.Errorf("%s: %w", ds.Ref(), err)
	}
	d.results[key] = v
	return v, nil
}

// resolverFor returns the access configuration of a data source's config
// and the function that resolves it.
func resolverFor(cfg any) (*amazon.AccessConfig, func(context.Context, *awsapi.Session) (cty.Value, error), error) {
	switch c := cfg.(type) {
	case *amazonami.Config:
		return &c.AccessConfig, func(ctx context.Context, s *awsapi.Session) (cty.Value, error) {
			return amazonami.Evaluate(ctx, s, c)
		}, nil
	case *parameterstore.Config:
		return &c.AccessConfig, func(ctx context.Context, s *awsapi.Session) (cty.Value, error) {
			return parameterstore.Evaluate(ctx, s, c)
		}, nil
	default:
		return nil, nil, fmt.Errorf("imgbuild cannot resolve data sources of this kind (%T) against AWS", cfg)
	}
}

// session returns the cached Session for access, creating it on first
// use. d.mu must be held: holding it across NewSession and the lookups
// makes each happen once even if the loader ever evaluates in parallel.
func (d *dataEvaluator) session(access *amazon.AccessConfig) (*awsapi.Session, error) {
	a := access.Access()
	key := cacheKey("access", a)
	r, ok := d.sessions[key]
	if !ok {
		sess, err := awsapi.NewSession(d.ctx, a)
		r = &sessionResult{sess: sess, err: err}
		d.sessions[key] = r
	}
	return r.sess, r.err
}

// cacheKey hashes kind and v's JSON encoding. Hashing keeps secrets that
// v may hold out of the map's keys, and so out of any dump of them.
func cacheKey(kind string, v any) [sha256.Size]byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Configs are plain data, so this does not happen; a key unique
		// to v costs at most a second lookup, never a wrong answer.
		b = fmt.Appendf(nil, "%p", v)
	}
	return sha256.Sum256(append([]byte(kind+"\x00"), b...))
}
