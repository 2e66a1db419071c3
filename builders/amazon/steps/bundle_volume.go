package steps

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/imgbuild/imgbuild/internal/bundle"
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/interpolate"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/internal/rootfs"
)

// bundleVolume makes the instance-store bundle of the instance in the
// build region's bucket. On Linux it reads the root file system through
// the communicator as a tar stream (ec2-bundle-vol's exclusions and file
// filter applied, rootfs.Exclude), makes an ext4 image of it on this
// machine and bundles that with the native streaming bundler: parts are
// uploaded while later ones are still being made, the manifest last.
// Neither the AWS credentials nor the X.509 key ever reach the instance.
// On Windows EC2 bundles the instance itself (BundleInstance, see
// bundle_instance.go). Every object is tagged and journaled before it is
// written; cleanup deletes them all when the build did not succeed.
type bundleVolume struct{ b *build }

// Run bundles the instance.
func (n *bundleVolume) Run(ctx context.Context) error {
	b, bc := n.b, n.b.cfg.Bundle
	b.clearAuthorizedKeys(ctx)
	prefix, err := interpolate.Render(bc.Prefix, b.dataFor(b.cfg.Region))
	if err != nil {
		return fmt.Errorf("bundle_prefix: %w", err)
	}
	b.st.bundle.bucket, b.st.bundle.prefix = bc.Bucket, prefix
	switch {
	case b.st.source.Windows && bc.Tools:
		return fmt.Errorf("the source image %s is Windows, which EC2 bundles itself (BundleInstance): bundle_vol_command and bundle_upload_command apply to Linux only; remove them", b.st.source.ID)
	case b.st.source.Windows:
		return n.bundleInstance(ctx, prefix)
	case bc.Tools:
		return n.withTools(ctx, prefix)
	}
	opts, err := n.options(prefix)
	if err != nil {
		return err
	}
	return n.native(ctx, opts)
}

// options loads the keys and certificates the bundle is made with.
func (n *bundleVolume) options(prefix string) (bundle.Options, error) {
	b, bc := n.b, n.b.cfg.Bundle
	cert, key, err := bundle.LoadUserKeys(check.Resolve(b.env.BaseDir, bc.CertPath), check.Resolve(b.env.BaseDir, bc.KeyPath))
	if err != nil {
		return bundle.Options{}, err
	}
	ec2Cert, err := n.ec2Certificate()
	if err != nil {
		return bundle.Options{}, err
	}
	return bundle.Options{
		Name: prefix, Account: bc.AccountID, Arch: manifestArch(string(b.st.source.Architecture)),
		UserCert: cert, UserKey: key, EC2Cert: ec2Cert,
		Ancestors: []string{b.st.source.ID},
	}, nil
}

// ec2Certificate is ec2_cert_path's certificate, or the one embedded for
// the build region's partition.
func (n *bundleVolume) ec2Certificate() (*x509.Certificate, error) {
	path := n.b.cfg.Bundle.EC2CertPath
	if path == "" {
		return bundle.EC2Certificate(partition(n.b.cfg.Region))
	}
	c, err := bundle.LoadCertificate(check.Resolve(n.b.env.BaseDir, path))
	if err != nil {
		return nil, fmt.Errorf("ec2_cert_path: %w", err)
	}
	return c, nil
}

// partition is the AWS partition of a region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	}
	return "aws"
}

// manifestArch is the manifest's name of an EC2 architecture.
func manifestArch(a string) string {
	if a == "" {
		return "x86_64"
	}
	return a
}

// rootTar is the command that streams the root file system: one file
// system (no /proc, /sys or other mounts), numeric owners, extended
// attributes (file capabilities, SELinux labels) and ACLs. GNU tar exits
// 1 when a file changed while it was read, which a running system's logs
// do: that is not a failure.
const rootTar = "tar --create --file=- --directory=/ --one-file-system --numeric-owner --xattrs --xattrs-include='*' --acls " +
	"--warning=no-file-changed --warning=no-file-removed --warning=no-file-ignored ."

// native reads the root file system, images and bundles it.
func (n *bundleVolume) native(ctx context.Context, opts bundle.Options) error {
	b := n.b
	if b.st.comm == nil {
		return fmt.Errorf("bundle instance %s: no communicator: bundling a Linux instance reads its root file system over SSH", b.st.instance.ID)
	}
	cmd := rootTar
	if b.cfg.SSHUsername != "root" {
		cmd = "sudo -n " + cmd
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	var stderr provision.TailBuffer
	ran := make(chan error, 1)
	go func() {
		status, err := b.st.comm.Run(ctx, &provision.Cmd{Command: cmd, Stdout: pw, Stderr: &stderr})
		if err == nil && status > 1 {
			err = fmt.Errorf("tar exited with status %d: %s", status, stderr.String())
		}
		pw.CloseWithError(err) // nil: EOF
		ran <- err
	}()
	b.say("reading the root file system of %s (%s)", b.st.instance.ID, cmd)
	start := time.Now()
	img, size, err := rootfs.Image(ctx, pr, os.TempDir(), rootfs.Exclude)
	if err != nil {
		cancel()
		pr.CloseWithError(err)
		if rerr := <-ran; rerr != nil && !errors.Is(rerr, context.Canceled) {
			err = rerr
		}
		return fmt.Errorf("read the root file system of instance %s in %s: %w", b.st.instance.ID, b.cfg.Region, err)
	}
	defer os.Remove(img.Name())
	defer img.Close()
	if err := <-ran; err != nil {
		return fmt.Errorf("read the root file system of instance %s in %s: %w", b.st.instance.ID, b.cfg.Region, err)
	}
	b.say("root file system image: %s in %s", humanBytes(size), time.Since(start).Round(time.Millisecond))
	return n.write(ctx, img, size, opts)
}

// write bundles the image and uploads the parts, then the manifest.
func (n *bundleVolume) write(ctx context.Context, img io.Reader, size int64, opts bundle.Options) error {
	b, bc := n.b, n.b.cfg.Bundle
	task := "bundle " + opts.Name
	start := time.Now()
	opts.Progress = func(p bundle.Progress) {
		if b.env.Progress != nil && p.ImageSize > 0 {
			b.env.Progress(task, int(p.ImageBytes*100/p.ImageSize))
		}
	}
	put := func(ctx context.Context, p bundle.Part) error { return n.put(ctx, p.Name, p.Data) }
	m, err := bundle.Write(ctx, img, size, opts, put)
	if err != nil {
		return fmt.Errorf("bundle instance %s into s3://%s/%s in %s: %w; cleanup deletes the parts written", b.st.instance.ID, bc.Bucket, bc.KeyPrefix, b.cfg.Region, err)
	}
	name := opts.Name + ".manifest.xml"
	if err := n.put(ctx, name, m.Bytes()); err != nil {
		return fmt.Errorf("upload the manifest s3://%s/%s%s: %w; cleanup deletes the parts", bc.Bucket, bc.KeyPrefix, name, err)
	}
	b.st.bundle.manifest = bc.Bucket + "/" + bc.KeyPrefix + name
	d := time.Since(start)
	b.say("bundled %s into %d parts (%s) in %s, %s/s: s3://%s", humanBytes(m.Size), len(m.Parts), humanBytes(m.BundledSize),
		d.Round(time.Millisecond), humanBytes(int64(float64(m.Size)/d.Seconds())), b.st.bundle.manifest)
	return nil
}

// put writes one object of the bundle with the canned ACL EC2 reads
// bundles through, tagged with the run's tags, journaled first.
func (n *bundleVolume) put(ctx context.Context, name string, data []byte) error {
	b, bc, region := n.b, n.b.cfg.Bundle, n.b.cfg.Region
	key := bc.KeyPrefix + name
	id := bc.Bucket + "/" + key
	ref, err := b.env.Journal.Intent(journal.Resource{Type: journal.BucketObject, Region: region, Build: b.env.BuildName, ID: id, Name: key, Tags: b.env.RunTags()})
	if err != nil {
		return err
	}
	b.st.bundle.add(id)
	_, err = b.sess.S3(region).PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bc.Bucket), Key: aws.String(key), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ACL: s3types.ObjectCannedACLAwsExecRead,
		Tagging: aws.String(objectTags(b.env.RunTags())),
	})
	if err != nil {
		return fmt.Errorf("upload s3://%s: %w", id, err)
	}
	return b.env.Journal.Created(ref, id)
}

// objectTags is the x-amz-tagging form of tags.
func objectTags(tags map[string]string) string {
	v := url.Values{}
	for k, t := range tags {
		v.Set(k, t)
	}
	return v.Encode()
}

// Cleanup deletes the bundle's objects when the build did not succeed
// (join keeps them otherwise: the image is registered from them), and
// cancels a BundleInstance task still running.
func (n *bundleVolume) Cleanup(ctx context.Context) error {
	b := n.b
	if b.st.bundle.kept || b.st.succeeded.Load() {
		return nil
	}
	var errs []error
	if err := n.cancelTask(ctx); err != nil {
		errs = append(errs, err)
	}
	for _, id := range b.st.bundle.list() {
		errs = append(errs, b.remove(ctx, journal.Resource{Type: journal.BucketObject, Region: b.cfg.Region, ID: id}))
	}
	return errors.Join(errs...)
}

// humanBytes formats n bytes as MiB or GiB.
func humanBytes(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
