package bundle

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
)

// defaultPartSize is the size of every part but the last, as the
// ec2-ami-tools cut them.
const defaultPartSize = 10 << 20

// Options says what to bundle and for whom.
type Options struct {
	Name      string            // bundle prefix: tar member name, <Name>.part.N, <Name>.manifest.xml; required
	Account   string            // 12 digits, <user>
	Arch      string            // "x86_64" (default), "i386", "arm64"
	UserCert  *x509.Certificate // its RSA public key wraps user_encrypted_key/iv; required
	UserKey   *rsa.PrivateKey   // signs the manifest; required
	EC2Cert   *x509.Certificate // its RSA public key wraps ec2_encrypted_key/iv; required
	Mappings  []Mapping         // default {ami sda1} {root /dev/sda1}; emitted sorted by Virtual
	KernelID  string            // optional
	RamdiskID string            // optional
	Ancestors []string          // optional ancestor AMI ids
	PartSize  int64             // default 10 MiB (tests shrink it)
	Workers   int               // compression goroutines; default runtime.NumCPU()
	Uploads   int               // parts handed to put concurrently; default 4
	Progress  func(Progress)    // optional; called after each part's put returned (serialised)
}

// Progress reports how far Write is: ImageBytes of ImageSize read from the
// image, BundledBytes in the Parts whose put has returned.
type Progress struct {
	ImageBytes, ImageSize, BundledBytes int64
	Parts                               int
}

// Part is one encrypted part: Data is only valid until put returns.
type Part struct {
	Index int
	Name  string
	Data  []byte
	SHA1  string // hex SHA-1 of Data
}

// partName returns the name of part i of a bundle named name whose part
// numbers are padded to digits digits.
func partName(name string, digits, i int) string {
	return fmt.Sprintf("%s.part.%0*d", name, digits, i)
}

// checked returns o with defaults filled in, or an error naming the first
// field that is wrong.
func (o Options) checked() (Options, error) {
	if o.Name == "" {
		return o, errors.New("bundle name is empty")
	}
	if err := checkPartName(o.Name); err != nil || strings.ContainsAny(o.Name, "\r\n\t") {
		return o, fmt.Errorf("bundle name %q must be a plain file name", o.Name)
	}
	if len(o.Account) != 12 || strings.Trim(o.Account, "0123456789") != "" {
		return o, fmt.Errorf("account %q is not a 12-digit AWS account id", o.Account)
	}
	switch o.Arch {
	case "":
		o.Arch = "x86_64"
	case "x86_64", "i386", "arm64":
	default:
		return o, fmt.Errorf("architecture %q is not one of x86_64, i386, arm64", o.Arch)
	}
	if o.UserKey == nil {
		return o, errors.New("no user private key to sign the manifest")
	}
	if _, err := rsaPublic("user", o.UserCert); err != nil {
		return o, err
	}
	if _, err := rsaPublic("EC2", o.EC2Cert); err != nil {
		return o, err
	}
	if len(o.Mappings) == 0 {
		o.Mappings = []Mapping{{"ami", "sda1"}, {"root", "/dev/sda1"}}
	}
	o.Mappings = slices.Clone(o.Mappings)
	slices.SortStableFunc(o.Mappings, func(a, b Mapping) int { return strings.Compare(a.Virtual, b.Virtual) })
	if o.PartSize == 0 {
		o.PartSize = defaultPartSize
	}
	if o.PartSize < 0 || o.PartSize > 1<<30 {
		return o, fmt.Errorf("part size %d is out of range", o.PartSize)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.Uploads <= 0 {
		o.Uploads = 4
	}
	return o, nil
}

func rsaPublic(who string, c *x509.Certificate) (*rsa.PublicKey, error) {
	if c == nil {
		return nil, fmt.Errorf("no %s certificate", who)
	}
	pub, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the %s certificate's key is a %T, not an RSA key", who, c.PublicKey)
	}
	return pub, nil
}

// maxParts is an upper bound of the number of parts a bundle of an image of
// size bytes can have: the tar stream (header, data in 512-byte blocks, a
// long-name header for long names, the end blocks and the record padding),
// grown by gzip's worst case (stored blocks: a few bytes per block; 1/256
// is far above it) and by the cipher's padding block.
func maxParts(size int64, nameLen int, partSize int64) int64 {
	roundUp := func(n, m int64) int64 { return (n + m - 1) / m * m }
	tar := roundUp(size, 512) + 3*512 + roundUp(int64(nameLen)+1, 512) + 10240
	gz := tar + tar/256 + 1<<16
	ct := gz + 16
	return (ct + partSize - 1) / partSize
}

// partDigits is the width part numbers are padded to: the number of digits
// of the part count, as the ec2-ami-tools pad (10 parts: .part.00 to
// .part.09), taken of the upper bound since parts are named before the
// count is known.
func partDigits(size int64, nameLen int, partSize int64) int {
	return len(fmt.Sprint(maxParts(size, nameLen, partSize)))
}
