package steps

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/communicator"
	"github.com/imgbuild/imgbuild/internal/dag"
	"github.com/imgbuild/imgbuild/internal/interpolate"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/internal/sweep"
)

// build is one running build of an amazon builder: its configuration,
// environment, AWS session and typed state. It implements builder.Build.
type build struct {
	env      *builder.Env
	cfg      *Config
	sess     *awsapi.Session
	timeouts awsapi.Timeouts
	started  time.Time
	st       state
	net      network // the subnet and VPC, resolved once (network.go)
}

// NewBuild returns the build of cfg (already prepared) in env, whose nodes
// run the steps PlanLaunch, PlanImage and PlanRegions add. It creates the
// AWS session, sharing the process-wide rate limiter, and refuses settings
// the shared steps do not implement yet.
func NewBuild(ctx context.Context, env *builder.Env, cfg *Config) (builder.Build, error) {
	if err := unsupported(cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", env.BuildName, err)
	}
	opts := []awsapi.Option{}
	if env.Logger != nil {
		opts = append(opts, awsapi.WithLogger(env.Logger))
	}
	if env.Retry != nil {
		opts = append(opts, awsapi.WithRetryObserver(func(e awsapi.RetryEvent) { env.Retry(e.String()) }))
	}
	sess, err := awsapi.NewSession(ctx, cfg.Access(), opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: aws session: %w", env.BuildName, err)
	}
	// Before anything is created: cleanup checks the account against it.
	// A survey without a run (imgbuild plan) has no journal.
	if env.Journal == nil {
		return newBuild(env, cfg, sess), nil
	}
	if err := env.Journal.Access(sweep.AccessRecord(env.BuildName, cfg.Access(), sess.Identity())); err != nil {
		return nil, fmt.Errorf("%s: %w", env.BuildName, err)
	}
	return newBuild(env, cfg, sess), nil
}

func newBuild(env *builder.Env, cfg *Config, sess *awsapi.Session) *build {
	b := &build{env: env, cfg: cfg, sess: sess, started: time.Now(), timeouts: effectiveTimeouts(cfg)}
	b.st.init(cfg.Region, TargetRegions(&cfg.SourceConfig))
	return b
}

// unsupported returns an error naming the first setting that is set but
// not implemented, so it is never silently ignored.
func unsupported(cfg *Config) error {
	var names []string
	names = append(names, cfg.UnsupportedSettings()...)
	for _, s := range []struct {
		name string
		set  bool
	}{
		{"ssh_interface = \"session_manager\"", cfg.SSHInterface == "session_manager"},
	} {
		if s.set {
			names = append(names, s.name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("not supported yet by %s: %s", cfg.BuilderType, strings.Join(names, ", "))
}

// effectiveTimeouts maps the timeouts {} and aws_polling {} blocks.
func effectiveTimeouts(cfg *Config) awsapi.Timeouts {
	t := cfg.Timeouts
	return awsapi.EffectiveTimeouts(cfg.Polling(), awsapi.Timeouts{
		InstanceRunning:    check.DurationValue(t.InstanceRunning),
		InstanceStopped:    check.DurationValue(t.InstanceStopped),
		InstanceTerminated: check.DurationValue(t.InstanceTerminated),
		ImageAvailable:     check.DurationValue(t.ImageAvailable),
		CopyAvailable:      check.DurationValue(t.CopyAvailable),
	})
}

// Node returns the node of a step the shared planning functions added.
func (b *build) Node(step *builder.Step) (dag.Node, error) {
	switch step.Kind {
	case ResolveSource:
		return &resolveSource{b: b}, nil
	case KeyPair:
		return &createKeyPair{b: b}, nil
	case SecurityGroup:
		return &createSecurityGroup{b: b}, nil
	case Launch:
		if b.cfg.IsSpotInstance() {
			return &launchSpot{launchInstance: launchInstance{b: b}}, nil
		}
		return &launchInstance{b: b}, nil
	case Password:
		return &getPassword{b: b}, nil
	case Connect:
		return &connectInstance{b: b}, nil
	case Stop:
		return &stopInstance{b: b}, nil
	case AwaitStop:
		return &stopInstance{b: b, self: true}, nil
	case CreateImage:
		return &createImage{b: b}, nil
	case CheckBucket:
		return &checkBucket{b: b}, nil
	case BundleVolume:
		return &bundleVolume{b: b}, nil
	case RegisterBundle:
		return &registerBundle{b: b}, nil
	case SnapshotVolumes:
		return &snapshotVolumes{b: b}, nil
	case RegisterImage:
		return &registerImage{b: b}, nil
	case CopyImage:
		return b.copyNode(step.Region)
	case Finalize:
		return b.finalizeNode(step.Region)
	case Join:
		return &join{b: b}, nil
	case Reuse:
		return &reuse{b: b, region: step.Region}, nil
	}
	return nil, fmt.Errorf("%s: step %s (%s) is not an amazon builder step", b.env.BuildName, step.ID, step.Kind)
}

func (b *build) copyNode(region string) (dag.Node, error) {
	if b.st.copies[region] == nil {
		return nil, fmt.Errorf("%s: copy to %s: not a region of ami_regions", b.env.BuildName, region)
	}
	return &copyImage{b: b, region: region}, nil
}

func (b *build) finalizeNode(region string) (dag.Node, error) {
	if b.st.finals[region] == nil {
		return nil, fmt.Errorf("%s: finalize %s: not a region the image is kept in", b.env.BuildName, region)
	}
	return &finalizeRegion{b: b, region: region}, nil
}

// Communicator returns the connection to the instance once connected; nil
// with communicator "none" or before the connect step.
func (b *build) Communicator() provision.Communicator {
	if b.st.comm == nil {
		return nil
	}
	return b.st.comm
}

// Data returns the placeholder data, complete once the source is resolved;
// the connection's values (build.ID, build.Password, ...) are filled in as
// the launch, password and connect steps learn them.
func (b *build) Data() interpolate.Data {
	d := b.st.data
	cfg := b.cfg
	d.ID, d.ConnType, d.PackerRunUUID = b.st.instance.ID, cfg.Type, b.env.RunID
	if b.st.connHost != "" {
		d.Host, d.Port = b.st.connHost, strconv.Itoa(b.st.connPort)
	}
	switch cfg.Type {
	case communicator.WinRM:
		d.User = cfg.WinRMUsername
		d.Password = cmp.Or(cfg.WinRMPassword, b.st.password)
		d.WinRMPassword = d.Password
	case communicator.SSH:
		d.User, d.Password = cfg.SSHUsername, cfg.SSHPassword
	}
	if b.st.signer != nil {
		d.SSHPublicKey = strings.TrimSpace(string(gossh.MarshalAuthorizedKey(b.st.signer.PublicKey())))
		d.SSHPrivateKey = b.st.privatePEM
	}
	return d
}

// Artifact returns what the build produced: complete after join, and
// without images when the build creates none (skip_create_ami).
func (b *build) Artifact() *artifact.Artifact {
	if b.st.artifact != nil {
		return b.st.artifact
	}
	return b.newArtifact(nil)
}

func (b *build) ec2(region string) *ec2.Client { return b.sess.EC2(region) }

// waiter returns the waiter of a region; image waits report their
// snapshots' progress to the environment ("image in us-east-1", "copy to
// eu-west-1").
func (b *build) waiter(region string) awsapi.Waiter {
	w := awsapi.NewWaiter(b.ec2(region), b.timeouts)
	if b.env.Progress != nil {
		w.Progress = func(region, _ string, pct int) { b.env.Progress(progressTask(b.cfg.Region, region), pct) }
	}
	return w
}

// progressTask names the image wait of a region for the progress display.
func progressTask(buildRegion, region string) string {
	if region == buildRegion {
		return "image in " + region
	}
	return "copy to " + region
}

// say prints a progress line when the environment has a printer.
func (b *build) say(format string, args ...any) {
	if b.env.Say != nil {
		b.env.Say(format, args...)
	}
}

// dataFor returns the placeholder data rendered for region.
func (b *build) dataFor(region string) interpolate.Data {
	d := b.st.data
	d.BuildRegion = region
	return d
}
