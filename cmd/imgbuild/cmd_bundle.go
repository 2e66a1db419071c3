package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/bundle"
)

const (
	bundleSynopsis = "Verify or unpack an instance-store bundle (manifest and parts)"
	bundleUsage    = "bundle verify|unpack [options] MANIFEST"
)

var bundleCommand = command{synopsis: bundleSynopsis, usage: bundleUsage, run: runBundle}

// bundleSubcommands are bundle's own subcommands, with their usage.
var bundleSubcommands = map[string]struct {
	usage, summary, synopsis string
	run                      func(context.Context, *env, bundleOptions) int
}{
	"verify": {
		usage:    "bundle verify --key KEY MANIFEST",
		summary:  "Check a bundle's signature, parts and image with the user's key",
		synopsis: "Check a bundle: the manifest's signature with the public key of KEY, every part's SHA-1,\nthen decrypt with KEY and check the image's size and SHA-1. Nothing is written.",
		run:      runBundleVerify,
	},
	"unpack": {
		usage:    "bundle unpack --key KEY -o FILE MANIFEST",
		summary:  "Check a bundle as verify does and write its raw image to a file",
		synopsis: "Check a bundle as verify does and write the raw image to FILE (only once every check passed).",
		run:      runBundleUnpack,
	},
}

// bundleOptions are the flags of bundle verify and unpack. MANIFEST is a
// local path (parts read next to it) or s3://bucket/key (parts read from
// the same bucket and prefix).
type bundleOptions struct {
	manifest string
	keyPath  string
	output   string
	region   string
	log      hclog.Logger
}

func runBundle(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printBundleHelp(e.stderr) // as the other commands print their --help
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub, ok := bundleSubcommands[args[0]]
	if !ok {
		e.ui.Error("unknown bundle subcommand %q: want verify or unpack", args[0])
		return exitUsage
	}
	var o bundleOptions
	flags := o.flagSet(e, args[0])
	pos, code, ok := parseInterspersed(flags, args[1:])
	if !ok {
		return code
	}
	switch {
	case len(pos) != 1:
		e.ui.Error("expected one manifest path or s3:// URL, got %d arguments", len(pos))
		flags.Usage()
		return exitUsage
	case o.keyPath == "":
		e.ui.Error("--key is required: the private key of the certificate the bundle was made for")
		return exitUsage
	case args[0] == "unpack" && o.output == "":
		e.ui.Error("-o is required: where to write the image")
		return exitUsage
	}
	o.manifest = pos[0]
	logger, closeLog := newLogger(e)
	defer closeLog()
	o.log = logger
	return sub.run(ctx, e, o)
}

func printBundleHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: imgbuild %s\n\n%s\n\nSubcommands:\n", bundleUsage, bundleSynopsis)
	for _, name := range []string{"verify", "unpack"} {
		fmt.Fprintf(w, "    %-8s %s\n", name, bundleSubcommands[name].summary)
	}
	fmt.Fprintln(w, "\nRun 'imgbuild bundle <subcommand> --help' for its options.")
}

// flagSet returns the flags of bundle subcommand name, bound to o.
func (o *bundleOptions) flagSet(e *env, name string) *flag.FlagSet {
	sub := bundleSubcommands[name]
	flags := flag.NewFlagSet("imgbuild bundle "+name, flag.ContinueOnError)
	flags.SetOutput(e.stderr)
	flags.Usage = func() {
		fmt.Fprintf(flags.Output(), "Usage: imgbuild %s\n\n%s\n\n", sub.usage, sub.synopsis)
		fmt.Fprintln(flags.Output(), "MANIFEST is a local path (the parts are read next to it) or s3://BUCKET/KEY")
		fmt.Fprintln(flags.Output(), "(the parts are read from the same bucket and prefix, with the usual AWS")
		fmt.Fprintln(flags.Output(), "credentials; AWS_ENDPOINT_URL is honoured).")
		fmt.Fprintln(flags.Output(), "\nOptions:")
		flags.PrintDefaults()
	}
	flags.StringVar(&o.keyPath, "key", "", "the user's RSA private key (PEM, PKCS#1 or PKCS#8) whose certificate the bundle was made for (required)")
	flags.StringVar(&o.region, "region", "", "with an s3:// manifest: the bucket's region (default: $AWS_REGION or the AWS configuration)")
	if name == "unpack" {
		flags.StringVar(&o.output, "o", "", "the file to write the raw image to (required)")
	}
	return flags
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (flag stops at the first of those), which it
// returns.
func parseInterspersed(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return nil, code, false
		}
		if fs.NArg() == 0 {
			return pos, 0, true
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func runBundleVerify(ctx context.Context, e *env, o bundleOptions) int {
	err := checkBundle(ctx, e, o, io.Discard)
	if err != nil {
		return bundleFailed(e, err)
	}
	e.ui.Say("Bundle OK.")
	return exitOK
}

func runBundleUnpack(ctx context.Context, e *env, o bundleOptions) int {
	dir, base := filepath.Split(o.output)
	tmp, err := os.CreateTemp(dir, "."+base+".*.partial")
	if err != nil {
		e.ui.Error("%v", err)
		return exitFailed
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	err = checkBundle(ctx, e, o, tmp)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), o.output)
	}
	if err != nil {
		return bundleFailed(e, err)
	}
	e.ui.Say("Wrote the image to %s.", o.output)
	return exitOK
}

// bundleFailed reports err and returns the exit code.
func bundleFailed(e *env, err error) int {
	e.ui.Error("%v", err)
	var pe *bundle.PartError
	if errors.As(err, &pe) {
		e.ui.Hint("the bundle is incomplete or damaged: upload part %s again, or bundle again", pe.Part)
	}
	return exitCodeFor(err)
}

// checkBundle reads the manifest, checks its signature, unwraps the key,
// and reads every part (checking its SHA-1), decrypting and unpacking into
// w, which checks the image's size and SHA-1. It prints each check as it
// passes.
func checkBundle(ctx context.Context, e *env, o bundleOptions, w io.Writer) error {
	key, err := bundle.LoadPrivateKey(o.keyPath)
	if err != nil {
		return err
	}
	loc, err := openBundle(ctx, e, o)
	if err != nil {
		return err
	}
	doc, err := loc.manifest(ctx)
	if err != nil {
		return err
	}
	m, err := bundle.ParseManifest(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", o.manifest, err)
	}
	e.ui.Say("Manifest %s: image %q of account %s, %s, %d parts, %d bytes bundled", o.manifest, m.Name, m.Account, m.Arch, len(m.Parts), m.BundledSize)
	if err := m.Verify(&key.PublicKey); err != nil {
		return err
	}
	e.ui.Say("Signature: verified with the public key of %s", o.keyPath)
	return readBundle(ctx, e, m, key, loc.part, w)
}

func readBundle(ctx context.Context, e *env, m *bundle.Manifest, key *rsa.PrivateKey, src bundle.PartSource, w io.Writer) error {
	aesKey, iv, err := m.UserKey(key)
	if err != nil {
		return err
	}
	var parts, bytes atomic.Int64
	counted := func(ctx context.Context, name string) (io.ReadCloser, error) {
		rc, err := src(ctx, name)
		if err != nil {
			return nil, err
		}
		parts.Add(1)
		return &countingReadCloser{rc, &bytes}, nil
	}
	if err := bundle.Read(ctx, m, aesKey, iv, counted, w); err != nil {
		return err
	}
	e.ui.Say("Parts: %d of %d present, %d bytes, every SHA-1 matches the manifest", parts.Load(), len(m.Parts), bytes.Load())
	e.ui.Say("Image: %q, %d bytes, SHA-1 of the tar stream %s matches the manifest", m.Name, m.Size, m.Digest)
	return nil
}

type countingReadCloser struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingReadCloser) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// bundleLocation is where a bundle's manifest and parts are read from.
type bundleLocation struct {
	manifest func(context.Context) ([]byte, error)
	part     bundle.PartSource
}

// maxManifestSize bounds what is read as a manifest (a 10 GiB bundle's is
// about 150 KiB).
const maxManifestSize = 16 << 20

func openBundle(ctx context.Context, e *env, o bundleOptions) (*bundleLocation, error) {
	if strings.HasPrefix(o.manifest, "s3://") {
		return openS3Bundle(ctx, e, o)
	}
	dir := filepath.Dir(o.manifest)
	return &bundleLocation{
		manifest: func(context.Context) ([]byte, error) {
			f, err := os.Open(o.manifest)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return readManifest(f, o.manifest)
		},
		part: func(_ context.Context, name string) (io.ReadCloser, error) {
			return os.Open(filepath.Join(dir, name))
		},
	}, nil
}

func readManifest(r io.Reader, where string) ([]byte, error) {
	doc, err := io.ReadAll(io.LimitReader(r, maxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", where, err)
	}
	if len(doc) > maxManifestSize {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a manifest", where, maxManifestSize)
	}
	return doc, nil
}

// openS3Bundle reads the manifest at s3://bucket/key and the parts next
// to it, with the environment's AWS credentials and endpoint
// (AWS_ENDPOINT_URL).
func openS3Bundle(ctx context.Context, e *env, o bundleOptions) (*bundleLocation, error) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(o.manifest, "s3://"), "/")
	if bucket == "" || key == "" || strings.HasSuffix(key, "/") {
		return nil, fmt.Errorf("%s: want s3://BUCKET/KEY of the manifest", o.manifest)
	}
	sess, err := awsapi.NewSession(ctx, awsapi.Access{Region: o.region, SkipCredentialValidation: true}, awsapi.WithLogger(o.log))
	if err != nil {
		return nil, err
	}
	c := sess.S3("")
	prefix := ""
	if i := strings.LastIndex(key, "/"); i >= 0 {
		prefix = key[:i+1]
	}
	get := func(ctx context.Context, k string) (io.ReadCloser, error) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)},
			func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
		if err != nil {
			if awsapi.IsNotFound(err) {
				return nil, fmt.Errorf("s3://%s/%s: %w", bucket, k, fs.ErrNotExist)
			}
			return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, k, err)
		}
		return out.Body, nil
	}
	return &bundleLocation{
		manifest: func(ctx context.Context) ([]byte, error) {
			body, err := get(ctx, key)
			if err != nil {
				return nil, err
			}
			defer body.Close()
			return readManifest(body, o.manifest)
		},
		part: func(ctx context.Context, name string) (io.ReadCloser, error) { return get(ctx, prefix+name) },
	}, nil
}
