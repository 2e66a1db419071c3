package awsapi

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go/middleware"
	"github.com/hashicorp/go-hclog"
)

// Session holds the SDK configuration for one Access and hands out
// per-region clients, created on first use and cached. Create one per
// process and access configuration; it is safe for concurrent use.
type Session struct {
	cfg            aws.Config
	customEndpoint string
	identity       Identity
	limiter        *Limiter
	log            hclog.Logger
	onRetry        func(RetryEvent)

	ec2 clientCache[*ec2.Client]
	ssm clientCache[*ssm.Client]
	s3  clientCache[*s3.Client]
}

// Option configures NewSession.
type Option func(*sessionOptions)

type sessionOptions struct {
	limiter    *Limiter
	log        hclog.Logger
	httpClient aws.HTTPClient
	onRetry    func(RetryEvent)
}

// WithLimiter makes the Session's clients wait on l instead of
// ProcessLimiter().
func WithLimiter(l *Limiter) Option { return func(o *sessionOptions) { o.limiter = l } }

// WithLogger sets the logger for session setup and throttling events.
func WithLogger(l hclog.Logger) Option { return func(o *sessionOptions) { o.log = l } }

// WithRetryObserver makes fn hear of every retry of an AWS call that waits
// longer than RetryNotifyAfter before its next attempt, before that wait,
// so the user learns why a step is slow. fn is called on the goroutine of
// the call and must not block.
func WithRetryObserver(fn func(RetryEvent)) Option {
	return func(o *sessionOptions) { o.onRetry = fn }
}

// WithHTTPClient replaces the SDK's HTTP client, for tests.
func WithHTTPClient(c aws.HTTPClient) Option {
	return func(o *sessionOptions) { o.httpClient = c }
}

// NewSession loads the SDK configuration for a and, unless
// a.SkipCredentialValidation, checks the credentials with sts
// GetCallerIdentity. Errors never contain a's secrets.
func NewSession(ctx context.Context, a Access, opts ...Option) (*Session, error) {
	o := sessionOptions{limiter: processLimiter, log: hclog.NewNullLogger()}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := a.loadConfig(ctx, o.httpClient)
	if err != nil {
		return nil, a.scrubError(err)
	}
	s := &Session{cfg: cfg, customEndpoint: EndpointURL(a.CustomEndpointEC2), limiter: o.limiter, log: o.log,
		onRetry: o.onRetry}
	if !a.SkipCredentialValidation {
		if s.identity, err = a.validate(ctx, cfg); err != nil {
			return nil, err
		}
	}
	s.log.Debug("aws session ready", "region", cfg.Region, "credentials", a.credentialSource(),
		"source", s.identity.Source, "account", s.identity.Account,
		"custom_endpoint_ec2", a.CustomEndpointEC2)
	return s, nil
}

// Region returns the Session's default region.
func (s *Session) Region() string { return s.cfg.Region }

// Identity returns whose credentials the Session uses; it is empty when
// credential validation was skipped.
func (s *Session) Identity() Identity { return s.identity }

// Credentials returns the session's current credentials, for what signs
// with them itself (a BundleInstance upload policy). They are secrets:
// never log them.
func (s *Session) Credentials(ctx context.Context) (aws.Credentials, error) {
	if s.cfg.Credentials == nil {
		return aws.Credentials{}, errors.New("no credentials")
	}
	return s.cfg.Credentials.Retrieve(ctx)
}

// Limiter returns the Limiter every client of the Session waits on.
func (s *Session) Limiter() *Limiter { return s.limiter }

// Config returns a copy of the SDK configuration for region ("" for the
// default region), for services this package has no accessor for. Clients
// built from it are neither rate limited nor cached.
func (s *Session) Config(region string) aws.Config {
	cfg := s.cfg.Copy()
	cfg.Region = s.region(region)
	return cfg
}

func (s *Session) region(r string) string {
	if r == "" {
		return s.cfg.Region
	}
	return r
}

// EC2 returns the EC2 client for region ("" for the default region).
func (s *Session) EC2(region string) *ec2.Client {
	region = s.region(region)
	return s.ec2.get(region, func() *ec2.Client {
		return ec2.NewFromConfig(s.cfg, func(o *ec2.Options) {
			o.Region = region
			if s.customEndpoint != "" {
				o.BaseEndpoint = aws.String(s.customEndpoint)
			}
			s.instrument(&o.APIOptions, &o.Retryer, region)
		})
	})
}

// SSM returns the SSM client for region ("" for the default region).
func (s *Session) SSM(region string) *ssm.Client {
	region = s.region(region)
	return s.ssm.get(region, func() *ssm.Client {
		return ssm.NewFromConfig(s.cfg, func(o *ssm.Options) {
			o.Region = region
			s.instrument(&o.APIOptions, &o.Retryer, region)
		})
	})
}

// S3 returns the S3 client for region ("" for the default region). With a
// custom endpoint (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3) it addresses
// buckets by path, which local emulators need.
func (s *Session) S3(region string) *s3.Client {
	region = s.region(region)
	return s.s3.get(region, func() *s3.Client {
		return s3.NewFromConfig(s.cfg, func(o *s3.Options) {
			o.Region = region
			o.UsePathStyle = o.BaseEndpoint != nil
			s.instrument(&o.APIOptions, &o.Retryer, region)
		})
	})
}

// instrument adds the rate limit and call logging middleware to a
// client's options and makes its retryer report retries.
func (s *Session) instrument(apiOptions *[]func(*middleware.Stack) error, retryer *aws.Retryer, region string) {
	*apiOptions = append(*apiOptions, limitMiddleware(s.limiter, region, s.log))
	*retryer = observeRetries(*retryer, s.onRetry, s.log)
}

// clientCache holds one client per region.
type clientCache[T any] struct {
	mu      sync.Mutex
	clients map[string]T
}

func (c *clientCache[T]) get(region string, build func() T) T {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clients[region]; ok {
		return cl
	}
	if c.clients == nil {
		c.clients = map[string]T{}
	}
	cl := build()
	c.clients[region] = cl
	return cl
}

// EndpointURL is the URL of an endpoint a template names: as the AWS SDK
// Packer is built with does, a bare host name ("ec2.us-east-1.amazonaws.com")
// means https.
func EndpointURL(s string) string {
	if s == "" || strings.Contains(s, "://") {
		return s
	}
	return "https://" + s
}
