package localcloud

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// The AMI catalogue: public images the local cloud adds, in every region
// moto serves EC2 in, to the ones moto ships (a few old Windows, SUSE and
// Ubuntu images everywhere, plus per region the latest Amazon Linux ones),
// so that templates which look their source image up as they do on AWS
// find one. moto reads its catalogue from data files in its package:
// ec2/resources/amis.json for every region and
// ec2/resources/latest_amis/<region>.json for its region. MOTO_AMIS_PATH
// would replace both with one list for every region, losing the Amazon
// Linux images and giving an image the same ID everywhere. Instead,
// moto_server imports moto through an overlay (first on PYTHONPATH): a
// tree of symbolic links to the installed package in which only
// ec2/resources/latest_amis is a directory of copies of moto's files with
// the catalogue added, under an ID per region. moto's code is not changed.

// canonicalOwner is the account Canonical publishes Ubuntu images from;
// amazonOwner the one Amazon publishes Windows images from;
// amazonLinuxOwner the one it publishes Amazon Linux from.
const (
	canonicalOwner   = "099720109477"
	amazonOwner      = "801119661308"
	amazonLinuxOwner = "137112412989"
)

// catalogueImage is an image of the catalogue, the same in every region
// but for its ID. Its ImageOwnerAlias is "amazon", as moto says of every
// image in its catalogue and EC2 says of Canonical's.
type catalogueImage struct {
	name        string
	description string
	created     string // CreationDate
	platform    string // "windows", or "" for Linux
	// instanceStore marks an image whose root device is an instance-store
	// volume (an S3 bundle) instead of an EBS snapshot.
	instanceStore bool
}

// catalogue lists the images: two builds of each Ubuntu release, so that
// most_recent has a choice to make. Names, descriptions and locations
// follow Canonical's (hvm-ssd-gp3 since noble).
var catalogue = []catalogueImage{
	ubuntuImage("hvm-ssd/ubuntu-jammy-22.04", "20240607", "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-06-07", "2024-06-07T15:21:52.000Z"),
	ubuntuImage("hvm-ssd/ubuntu-jammy-22.04", "20240701", "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-07-01", "2024-07-01T16:36:59.000Z"),
	ubuntuImage("hvm-ssd-gp3/ubuntu-noble-24.04", "20240607", "Canonical, Ubuntu, 24.04, amd64 noble image", "2024-06-07T09:33:18.000Z"),
	ubuntuImage("hvm-ssd-gp3/ubuntu-noble-24.04", "20240701", "Canonical, Ubuntu, 24.04, amd64 noble image", "2024-07-01T10:48:21.000Z"),
	windowsImage("2019", "2024.10.09", "2024-10-09T23:05:18.000Z"),
	windowsImage("2019", "2024.11.13", "2024-11-13T22:41:07.000Z"),
	windowsImage("2022", "2024.10.09", "2024-10-09T23:12:44.000Z"),
	windowsImage("2022", "2024.11.13", "2024-11-13T22:50:31.000Z"),
	amazonLinuxS3Image("2018.03.0.20230905.0", "2023-09-05T18:26:52.000Z"),
	amazonLinuxS3Image("2018.03.0.20231218.0", "2023-12-18T21:12:09.000Z"),
}

// windowsImage is Amazon's Windows Server Full Base image of a release,
// as published on patch Tuesday's date.
func windowsImage(release, date, created string) catalogueImage {
	return catalogueImage{name: "Windows_Server-" + release + "-English-Full-Base-" + date,
		description: "Microsoft Windows Server " + release + " Full Locale English AMI provided by Amazon",
		created:     created, platform: "windows"}
}

// amazonLinuxS3Image is a build of the Amazon Linux AMI (2018.03, HVM)
// backed by instance store, its root an S3 bundle, as Amazon publishes
// it beside the -ebs and -gp2 builds moto lists.
func amazonLinuxS3Image(version, created string) catalogueImage {
	return catalogueImage{name: "amzn-ami-hvm-" + version + "-x86_64-s3",
		description: "Amazon Linux AMI " + version + " x86_64 HVM S3", created: created, instanceStore: true}
}

func ubuntuImage(release, serial, description, created string) catalogueImage {
	return catalogueImage{name: "ubuntu/images/" + release + "-amd64-server-" + serial, description: description, created: created}
}

// motoAMI is an image in moto's catalogue files: the keyword arguments of
// moto's Ami, which refuses any other.
type motoAMI struct {
	ID                 string `json:"ami_id"`
	Name               string `json:"name"`
	Description        string `json:"description"`
	OwnerID            string `json:"owner_id"`
	Public             bool   `json:"public"`
	State              string `json:"state"`
	ImageType          string `json:"image_type"`
	ImageLocation      string `json:"image_location"`
	Architecture       string `json:"architecture"`
	VirtualizationType string `json:"virtualization_type"`
	Hypervisor         string `json:"hypervisor"`
	RootDeviceType     string `json:"root_device_type"`
	RootDeviceName     string `json:"root_device_name"`
	SriovNetSupport    string `json:"sriov"`
	BootMode           string `json:"boot_mode"`
	CreationDate       string `json:"creation_date"`
	Platform           string `json:"platform,omitempty"`
}

// catalogueID is the image's ID in region: stable, and different in every
// region, as EC2's are.
func catalogueID(region, name string) string {
	sum := sha256.Sum256([]byte(region + "/" + name))
	return "ami-0" + hex.EncodeToString(sum[:8])
}

// catalogueEntries returns the catalogue as moto's entries for region.
func catalogueEntries(region string) []motoAMI {
	out := make([]motoAMI, 0, len(catalogue))
	for _, im := range catalogue {
		owner, root := canonicalOwner, "ebs"
		switch {
		case im.platform == "windows":
			owner = amazonOwner
		case im.instanceStore:
			owner, root = amazonLinuxOwner, "instance-store"
		}
		out = append(out, motoAMI{
			ID:                 catalogueID(region, im.name),
			Name:               im.name,
			Description:        im.description,
			OwnerID:            owner,
			Public:             true,
			State:              "available",
			ImageType:          "machine",
			ImageLocation:      "amazon/" + im.name,
			Architecture:       "x86_64",
			VirtualizationType: "hvm",
			Hypervisor:         "xen",
			RootDeviceType:     root,
			RootDeviceName:     "/dev/sda1",
			SriovNetSupport:    "simple",
			BootMode:           "uefi-preferred",
			CreationDate:       im.created,
			Platform:           im.platform,
		})
	}
	return out
}

// motoCatalogue is the installed moto package and its latest_amis files
// with the catalogue added.
type motoCatalogue struct {
	pkg    string            // the moto package directory
	latest map[string][]byte // file name (<region>.json) -> content
}

// installedCatalogue is found once per process: every moto_server started
// from the same program imports the same package.
var installedCatalogue struct {
	once sync.Once
	c    *motoCatalogue
	err  error
}

// catalogueFor returns the catalogue for the moto that the moto_server
// script bin runs.
func catalogueFor(bin string) (*motoCatalogue, error) {
	installedCatalogue.once.Do(func() {
		installedCatalogue.c, installedCatalogue.err = loadCatalogue(bin)
		if installedCatalogue.err != nil {
			installedCatalogue.err = fmt.Errorf("add images to moto's AMI catalogue: %w", installedCatalogue.err)
		}
	})
	return installedCatalogue.c, installedCatalogue.err
}

// findPackages prints where the moto and botocore packages are, as the
// python running moto_server imports them.
const findPackages = `import importlib.util as u, json
print(json.dumps({n: u.find_spec(n).submodule_search_locations[0] for n in ("moto", "botocore")}))`

func loadCatalogue(bin string) (*motoCatalogue, error) {
	py, err := motoPython(bin)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", findPackages)
	cmd.Dir = filepath.Dir(bin) // as for the script: no package from the working directory
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(ee.Stderr))
		}
		return nil, fmt.Errorf("find the moto package with %s: %w", py, err)
	}
	var pkgs struct{ Moto, Botocore string }
	if err := json.Unmarshal(out, &pkgs); err != nil {
		return nil, fmt.Errorf("find the moto package with %s: %w (%q)", py, err, out)
	}
	regions, err := ec2Regions(filepath.Join(pkgs.Botocore, "data"))
	if err != nil {
		return nil, err
	}
	return buildCatalogue(pkgs.Moto, regions)
}

// motoPython returns the python that runs the moto_server script bin: the
// one its #! line names, else (a pyenv or asdf shim, a wrapper script) the
// python3 next to it.
func motoPython(bin string) (string, error) {
	script, err := filepath.EvalSymlinks(bin)
	if err != nil {
		return "", err
	}
	f, err := os.Open(script)
	if err != nil {
		return "", err
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	f.Close()
	line, _, _ := strings.Cut(string(head[:n]), "\n")
	if rest, ok := strings.CutPrefix(line, "#!"); ok {
		args := strings.Fields(rest)
		if len(args) > 0 && filepath.Base(args[0]) == "env" {
			args = args[1:]
			for len(args) > 0 && strings.HasPrefix(args[0], "-") {
				args = args[1:]
			}
		}
		if len(args) > 0 && strings.HasPrefix(filepath.Base(args[0]), "python") {
			return exec.LookPath(args[0])
		}
	}
	for _, dir := range []string{filepath.Dir(bin), filepath.Dir(script)} {
		if py, err := exec.LookPath(filepath.Join(dir, "python3")); err == nil {
			return py, nil
		}
	}
	return "", fmt.Errorf("cannot tell which python runs %s", bin)
}

// ec2Regions returns the regions botocore's endpoint data lists EC2 in,
// which are the regions moto serves EC2 in.
func ec2Regions(botocoreData string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(botocoreData, "endpoints.json"))
	if errors.Is(err, os.ErrNotExist) {
		b, err = readGzip(filepath.Join(botocoreData, "endpoints.json.gz"))
	}
	if err != nil {
		return nil, fmt.Errorf("read botocore's endpoints: %w", err)
	}
	var doc struct {
		Partitions []struct {
			Regions  map[string]json.RawMessage
			Services map[string]struct{ Endpoints map[string]json.RawMessage }
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("read botocore's endpoints: %w", err)
	}
	var regions []string
	for _, p := range doc.Partitions {
		for r := range p.Services["ec2"].Endpoints {
			if _, ok := p.Regions[r]; ok {
				regions = append(regions, r)
			}
		}
	}
	if len(regions) == 0 {
		return nil, errors.New("botocore's endpoints list no EC2 region")
	}
	sort.Strings(regions)
	return regions, nil
}

// buildCatalogue adds the catalogue to moto's latest_amis file of every
// region (and makes one for a region that has none). The files are plain
// JSON: moto reads <region>.json when there is no <region>.json.gz.
func buildCatalogue(pkg string, regions []string) (*motoCatalogue, error) {
	if _, err := os.Stat(filepath.Join(pkg, "ec2", "models", "amis.py")); err != nil {
		return nil, fmt.Errorf("moto package %s: %w (the catalogue needs moto 5's layout)", pkg, err)
	}
	latestDir := filepath.Join(pkg, "ec2", "resources", "latest_amis")
	c := &motoCatalogue{pkg: pkg, latest: map[string][]byte{}}
	for _, region := range regions {
		var images []json.RawMessage
		b, err := readGzip(filepath.Join(latestDir, region+".json.gz"))
		if errors.Is(err, os.ErrNotExist) {
			b, err = os.ReadFile(filepath.Join(latestDir, region+".json"))
		}
		switch {
		case err == nil:
			if err := json.Unmarshal(b, &images); err != nil {
				return nil, fmt.Errorf("moto's latest_amis of %s: %w", region, err)
			}
		case !errors.Is(err, os.ErrNotExist):
			return nil, err
		}
		for _, e := range catalogueEntries(region) {
			raw, err := json.Marshal(e)
			if err != nil {
				return nil, err
			}
			images = append(images, raw)
		}
		if c.latest[region+".json"], err = json.Marshal(images); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// writeOverlay makes dir/moto the installed moto package with the
// catalogue's latest_amis files; moto_server imports it with dir first on
// PYTHONPATH. Every directory on the way from moto to latest_amis is a
// directory of its own, not a link: moto finds the files as
// ec2/models/../resources/latest_amis, and ".." after a link to the real
// models directory would lead back into the real package.
func (c *motoCatalogue) writeOverlay(dir string) error {
	pkg := filepath.Join(dir, "moto")
	steps := []struct{ real, overlay, own string }{
		{c.pkg, pkg, "ec2"},
		{filepath.Join(c.pkg, "ec2"), filepath.Join(pkg, "ec2"), "models resources"},
		{filepath.Join(c.pkg, "ec2", "models"), filepath.Join(pkg, "ec2", "models"), ""},
		{filepath.Join(c.pkg, "ec2", "resources"), filepath.Join(pkg, "ec2", "resources"), "latest_amis"},
	}
	for _, s := range steps {
		if err := linkEntries(s.real, s.overlay, strings.Fields(s.own)); err != nil {
			return err
		}
	}
	latest := filepath.Join(pkg, "ec2", "resources", "latest_amis")
	if err := os.Mkdir(latest, 0o755); err != nil {
		return err
	}
	for name, b := range c.latest {
		if err := os.WriteFile(filepath.Join(latest, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// linkEntries makes the directory overlay with a link to every entry of
// real, except the ones named in own, which the caller makes.
func linkEntries(real, overlay string, own []string) error {
	entries, err := os.ReadDir(real)
	if err != nil {
		return err
	}
	if err := os.Mkdir(overlay, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if slices.Contains(own, e.Name()) {
			continue
		}
		if err := os.Symlink(filepath.Join(real, e.Name()), filepath.Join(overlay, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return io.ReadAll(zr)
}
