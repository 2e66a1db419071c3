package localcloud_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/imgbuild/imgbuild/internal/bundle"
	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/rootfs"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// cloudCertificate fetches the cloud's EC2 bundling certificate from
// GET /_localcloud/ec2-certificate.
func cloudCertificate(t *testing.T, c *localcloud.Cloud) *x509.Certificate {
	t.Helper()
	resp, err := http.Get(c.URL() + "/_localcloud/ec2-certificate")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	block, _ := pem.Decode(b)
	if resp.StatusCode != http.StatusOK || block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("GET /_localcloud/ec2-certificate: %d %q", resp.StatusCode, b)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
		t.Fatalf("the certificate's key is a %T, want RSA", cert.PublicKey)
	}
	return cert
}

// userKey is the bundle owner's key of the tests (any RSA key will do).
var userKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// s3Client returns an S3 client for region pointed at the cloud.
func s3Client(c *localcloud.Cloud, region string) *s3.Client {
	return s3.NewFromConfig(testenv.AWSConfig(c.URL(), region), func(o *s3.Options) { o.UsePathStyle = true })
}

// putBundle bundles image as name for ec2Cert in 4 KiB parts and uploads
// the parts, then the manifest, to bucket (made when missing). It returns
// the manifest.
func putBundle(t *testing.T, s *s3.Client, bucket, name string, image []byte, ec2Cert *x509.Certificate) *bundle.Manifest {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil && !strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
		t.Fatal(err)
	}
	key, err := userKey()
	if err != nil {
		t.Fatal(err)
	}
	o := bundle.Options{Name: name, Account: "123456789012", UserCert: ec2Cert, UserKey: key, EC2Cert: ec2Cert, PartSize: 4 << 10}
	m, err := bundle.Write(ctx, bytes.NewReader(image), int64(len(image)), o, func(ctx context.Context, p bundle.Part) error {
		_, err := s.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(p.Name), Body: bytes.NewReader(p.Data)})
		return err
	})
	if err != nil {
		t.Fatalf("bundle %s: %v", name, err)
	}
	putObject(t, s, bucket, name+".manifest.xml", m.Bytes())
	return m
}

func putObject(t *testing.T, s *s3.Client, bucket, key string, data []byte) {
	t.Helper()
	if _, err := s.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
}

// register registers the bundle at location as an HVM image.
func register(c *ec2.Client, name, location string) (string, error) {
	out, err := c.RegisterImage(context.Background(), &ec2.RegisterImageInput{Name: aws.String(name), ImageLocation: aws.String(location),
		VirtualizationType: aws.String("hvm")})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ImageId), nil
}

// randomImage is a stand-in raw image for clouds without guests, which
// check bundles but do not open their image.
func randomImage(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInstanceStore runs the instance-store tests that need no guest on
// one cloud.
func TestInstanceStore(t *testing.T) {
	t.Parallel()
	cloud := testenv.LocalCloud(t, fast())
	for name, test := range map[string]func(*testing.T, *localcloud.Cloud){
		"register refusals": testRegisterBundleRefusals,
		"image":             testInstanceStoreImage,
		"catalogue":         testInstanceStoreCatalogue,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, cloud)
		})
	}
}

// testRegisterBundleRefusals: RegisterImage with an ImageLocation refuses,
// with InvalidManifest and a message saying why, a manifest that is
// missing or unparsable, a bundle with a missing or damaged part (named),
// and one made for AWS's EC2 certificate instead of the cloud's; nothing
// is registered.
func testRegisterBundleRefusals(t *testing.T, cloud *localcloud.Cloud) {
	c, s := client(cloud, "us-east-1", 1), s3Client(cloud, "us-east-1")
	cert := cloudCertificate(t, cloud)
	ctx := context.Background()
	awsCert, err := bundle.EC2Certificate("aws")
	if err != nil {
		t.Fatal(err)
	}
	image := randomImage(t, 10<<10) // three parts
	putBundle(t, s, "refusals", "good", image, cert)
	missing := putBundle(t, s, "refusals", "missing-part", image, cert).Parts[1].Name
	if _, err := s.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("refusals"), Key: aws.String(missing)}); err != nil {
		t.Fatal(err)
	}
	damaged := putBundle(t, s, "refusals", "damaged-part", image, cert).Parts[2].Name
	putObject(t, s, "refusals", damaged, []byte("not the part"))
	putBundle(t, s, "refusals", "for-aws", image, awsCert)
	putObject(t, s, "refusals", "garbage.manifest.xml", []byte("<manifest><version>2007-10-10"))

	for location, want := range map[string]string{
		"refusals/absent.manifest.xml":       "does not exist",
		"no-such-bucket/image.manifest.xml":  "does not exist",
		"refusals":                           "not of the form bucket/path/name.manifest.xml",
		"refusals/garbage.manifest.xml":      "cannot be parsed",
		"refusals/missing-part.manifest.xml": "part " + missing,
		"refusals/damaged-part.manifest.xml": "part " + damaged,
		"refusals/for-aws.manifest.xml":      "this cloud's EC2 certificate",
	} {
		t.Run(location, func(t *testing.T) {
			_, err := register(c, "refused", location)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidManifest" || !strings.Contains(ae.ErrorMessage(), want) {
				t.Errorf("RegisterImage %s: %v, want InvalidManifest saying %q", location, err, want)
			}
		})
	}
	t.Run("the damaged part's digest", func(t *testing.T) {
		_, err := register(c, "refused", "refusals/damaged-part.manifest.xml")
		if err == nil || !strings.Contains(err.Error(), "digest") {
			t.Errorf("RegisterImage of a damaged part: %v, want the digest named", err)
		}
	})
	images, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: parseFilters("name=refused")})
	if err != nil || len(images.Images) != 0 {
		t.Errorf("images after the refusals: %v %d, want none", err, len(images.Images))
	}
	if _, err := register(c, "good", "refusals/good.manifest.xml"); err != nil {
		t.Errorf("RegisterImage of the good bundle: %v", err)
	}
}

// testInstanceStoreImage registers a bundle and finds it as EC2 shows an
// instance-store image (and by the filters on those fields), launches an
// instance-store instance from it that cannot be stopped, copies it to
// another region (into EC2's bucket there, again instance-store), and
// deregisters it.
func testInstanceStoreImage(t *testing.T, cloud *localcloud.Cloud) {
	use1, euw1 := client(cloud, "us-east-1", 1), client(cloud, "eu-west-1", 1)
	ctx := context.Background()
	m := putBundle(t, s3Client(cloud, "us-east-1"), "store-images", "app-v1", randomImage(t, 6<<10), cloudCertificate(t, cloud))
	id, err := register(use1, "app-v1", "store-images/app-v1.manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	checkStoreImage(t, describeImage(t, use1, id), "store-images/app-v1.manifest.xml")
	if st := imageState(t, use1, id); st != types.ImageStatePending {
		t.Errorf("new image %s, want pending", st)
	}
	eventually(t, "image available", func() bool { return imageState(t, use1, id) == types.ImageStateAvailable })

	for filters, want := range map[string]int{
		"root-device-type=instance-store manifest-location=store-images/app-*": 1,
		"root-device-type=ebs name=app-v1":                                     0,
		"architecture=" + m.Arch + " virtualization-type=hvm name=app-v1":      1,
	} {
		out, err := use1.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: parseFilters(filters)})
		if err != nil || len(out.Images) != want {
			t.Errorf("DescribeImages %s: %v, %d images, want %d", filters, err, len(out.Images), want)
		}
	}
	// moto makes a snapshot for every image, described as for the image.
	snaps, err := use1.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: parseFilters("description=*" + id + "*")})
	if err != nil || len(snaps.Snapshots) != 0 {
		t.Errorf("snapshots of an instance-store image: %v, %d, want none", err, len(snaps.Snapshots))
	}

	instance := runFrom(t, use1, id, "", "")
	in := describeInstance(t, use1, instance)
	if in.RootDeviceType != types.DeviceTypeInstanceStore || len(in.BlockDeviceMappings) != 0 {
		t.Errorf("instance of an instance-store image: root device %s, mappings %d", in.RootDeviceType, len(in.BlockDeviceMappings))
	}
	eventually(t, "instance running", func() bool { return instanceState(t, use1, instance) == types.InstanceStateNameRunning })
	_, err = use1.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{instance}})
	if errorCode(err) != "UnsupportedOperation" || !strings.Contains(err.Error(), "does not have an 'ebs' root device type and cannot be stopped") {
		t.Errorf("StopInstances of an instance-store instance: %v", err)
	}

	cp, err := euw1.CopyImage(ctx, &ec2.CopyImageInput{SourceRegion: aws.String("us-east-1"), SourceImageId: aws.String(id), Name: aws.String("app-v1")})
	if err != nil {
		t.Fatal(err)
	}
	copyID := aws.ToString(cp.ImageId)
	copied := describeImage(t, euw1, copyID)
	loc := aws.ToString(copied.ImageLocation)
	if !strings.HasPrefix(loc, "amis-for-123456789012-in-eu-west-1-") || !strings.HasSuffix(loc, "/"+copyID+"/app-v1.manifest.xml") {
		t.Errorf("copy's location %q, want EC2's bucket of eu-west-1", loc)
	}
	checkStoreImage(t, copied, loc)
	bucket, _, _ := strings.Cut(loc, "/")
	s := s3Client(cloud, "eu-west-1")
	for _, part := range append(partNames(m), "app-v1.manifest.xml") {
		if _, err := s.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(copyID + "/" + part)}); err != nil {
			t.Errorf("the copy's %s: %v", part, err)
		}
	}
	if again, err := register(euw1, "app-v1-again", loc); err != nil {
		t.Errorf("RegisterImage of the copy's bundle: %v", err)
	} else {
		checkStoreImage(t, describeImage(t, euw1, again), loc)
	}

	if _, err := use1.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
}

// testInstanceStoreCatalogue: Amazon's instance-store Amazon Linux AMI
// builds are in every region, found by an amazon-instance template's
// source_ami_filter, and their instances are instance-store ones.
func testInstanceStoreCatalogue(t *testing.T, cloud *localcloud.Cloud) {
	seen := map[string]bool{}
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-southeast-2"} {
		c := client(cloud, region, 1)
		out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"amazon"},
			Filters: parseFilters("name=amzn-ami-hvm-2018.03.0.*-x86_64-s3 root-device-type=instance-store virtualization-type=hvm")})
		if err != nil || len(out.Images) != 2 {
			t.Fatalf("%s: instance-store Amazon Linux images: %v, %d, want 2", region, err, len(out.Images))
		}
		for _, im := range out.Images {
			if seen[aws.ToString(im.ImageId)] || aws.ToString(im.OwnerId) != "137112412989" || aws.ToString(im.ImageOwnerAlias) != "amazon" ||
				im.Architecture != types.ArchitectureValuesX8664 || len(im.BlockDeviceMappings) != 0 || !aws.ToBool(im.Public) {
				t.Errorf("%s: %s: id %s owner %s alias %s arch %s mappings %d", region, aws.ToString(im.Name), aws.ToString(im.ImageId),
					aws.ToString(im.OwnerId), aws.ToString(im.ImageOwnerAlias), im.Architecture, len(im.BlockDeviceMappings))
			}
			seen[aws.ToString(im.ImageId)] = true
		}
		if region == "eu-west-1" {
			instance := runFrom(t, c, aws.ToString(out.Images[0].ImageId), "", "")
			if got := describeInstance(t, c, instance).RootDeviceType; got != types.DeviceTypeInstanceStore {
				t.Errorf("instance of %s: root device type %s", aws.ToString(out.Images[0].Name), got)
			}
		}
	}
}

// checkStoreImage checks what DescribeImages says of an instance-store
// image registered from location.
func checkStoreImage(t *testing.T, im types.Image, location string) {
	t.Helper()
	if im.RootDeviceType != types.DeviceTypeInstanceStore || aws.ToString(im.ImageLocation) != location ||
		im.ImageType != types.ImageTypeValuesMachine || im.Architecture != types.ArchitectureValuesX8664 ||
		im.VirtualizationType != types.VirtualizationTypeHvm || aws.ToString(im.RootDeviceName) != "/dev/sda1" {
		t.Errorf("image %s: root %s %s, location %q, type %s, arch %s, virtualization %s", aws.ToString(im.ImageId), im.RootDeviceType,
			aws.ToString(im.RootDeviceName), aws.ToString(im.ImageLocation), im.ImageType, im.Architecture, im.VirtualizationType)
	}
	for _, m := range im.BlockDeviceMappings {
		if m.Ebs != nil {
			t.Errorf("image %s has an EBS mapping %s", aws.ToString(im.ImageId), aws.ToString(m.DeviceName))
		}
	}
}

// parseFilters reads "name=value name=value".
func parseFilters(s string) []types.Filter {
	var out []types.Filter
	for _, f := range strings.Fields(s) {
		name, value, _ := strings.Cut(f, "=")
		out = append(out, types.Filter{Name: aws.String(name), Values: []string{value}})
	}
	return out
}

func partNames(m *bundle.Manifest) []string {
	var out []string
	for _, p := range m.Parts {
		out = append(out, p.Name)
	}
	return out
}

// TestInstanceStoreContent registers a bundle of an ext4 image holding a
// file, launches instances of the image and of its copy in another
// region, and finds the file (over the guest's base system) in both;
// deregistering and terminating frees the layer. An instance of the
// catalogue's instance-store Amazon Linux boots the standard guest.
func TestInstanceStoreContent(t *testing.T) {
	t.Parallel()
	cloud, state := guestCloud(t)
	ctx := context.Background()
	use1, euw1 := client(cloud, "us-east-1", 0), client(cloud, "eu-west-1", 0)
	key := newSigner(t)
	importKey(t, use1, "k", key)
	importKey(t, euw1, "k", key)

	image := ext4Image(t, map[string]string{"etc/imgbuild-bundled": "bundled\n"})
	putBundle(t, s3Client(cloud, "us-east-1"), "store-content", "root", image, cloudCertificate(t, cloud))
	id, err := register(use1, "root", "store-content/root.manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	cp, err := euw1.CopyImage(ctx, &ec2.CopyImageInput{SourceRegion: aws.String("us-east-1"), SourceImageId: aws.String(id), Name: aws.String("root")})
	if err != nil {
		t.Fatal(err)
	}
	layers := filepath.Join(state, "layers", "*")
	if ls, _ := filepath.Glob(layers); len(ls) != 1 {
		t.Errorf("layers after register and copy: %v, want one shared", ls)
	}
	a, b := runFrom(t, use1, id, "k", ""), runFrom(t, euw1, aws.ToString(cp.ImageId), "k", "")
	for c, instance := range map[*ec2.Client]string{use1: a, euw1: b} {
		conn := login(t, c, instance, key)
		if got := output(t, conn, "cat /etc/imgbuild-bundled; grep -q Debian /etc/os-release && echo debian"); got != "bundled\ndebian\n" {
			t.Errorf("%s sees %q", instance, got)
		}
	}
	catalogued, err := use1.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: parseFilters("name=amzn-ami-hvm-2018.03.0.20231218.0-x86_64-s3")})
	if err != nil || len(catalogued.Images) != 1 {
		t.Fatalf("catalogue's instance-store Amazon Linux: %v", err)
	}
	al := runFrom(t, use1, aws.ToString(catalogued.Images[0].ImageId), "k", "")
	if got := output(t, login(t, use1, al, key), "grep -q Debian /etc/os-release && echo debian; test -e /etc/imgbuild-bundled || echo standard"); got != "debian\nstandard\n" {
		t.Errorf("instance of the catalogue's image sees %q", got)
	}

	for c, ids := range map[*ec2.Client][]string{use1: {a, al}, euw1: {b}} {
		if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
			t.Fatal(err)
		}
	}
	for c, image := range map[*ec2.Client]string{use1: id, euw1: aws.ToString(cp.ImageId)} {
		if _, err := c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(image)}); err != nil {
			t.Fatal(err)
		}
	}
	if ls, _ := filepath.Glob(layers); len(ls) != 0 {
		t.Errorf("layers left after deregistering: %v", ls)
	}
}

// ext4Image returns an ext4 image (rootfs.Image) of a root holding files.
func ext4Image(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	dirs := map[string]bool{}
	for name, content := range files {
		if dir := filepath.Dir(name); !dirs[dir] {
			dirs[dir] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755}); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(content))}); err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(tw, content)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	f, _, err := rootfs.Image(context.Background(), &tb, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
