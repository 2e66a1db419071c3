package steps

import (
	"crypto"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/interpolate"
)

// state is what the nodes of one build hand each other. Each field has
// exactly one writer, named in its comment; readers run downstream of the
// writer in the DAG (or in cleanup, after every Run returned), so the
// walker's ordering is the synchronisation. The per-region maps are filled
// with one entry per region by init and never change shape afterwards:
// each node writes only through the pointer of its own region.
type state struct {
	// FindBuilt, before the run: the images of the build's fingerprint
	// that exist already, by region
	existing map[string]builder.Found
	surveyed bool // FindBuilt looked once

	// resolveSource (or ResolveSource, before the run)
	source sourceImage
	data   interpolate.Data

	// createKeyPair
	keyName    string
	signer     gossh.Signer
	privateKey crypto.Signer // decrypts the Windows password
	privatePEM string        // {{ .SSHPrivateKey }}

	// getPassword: the Windows Administrator password (a secret)
	password string

	// createSecurityGroup
	groupID string

	// launchInstance
	instance instanceInfo

	// connectInstance
	comm     connection
	connHost string
	connPort int

	// bundleVolume: the instance-store bundle in S3 (amazon-instance)
	bundle bundleRecord

	// snapshotVolumes: the snapshots of the launch volumes (amazon-ebssurrogate)
	volumeSnaps []*volumeSnapshot

	// createImage, or registerBundle (amazon-instance), or registerImage
	// (amazon-ebssurrogate)
	built imageRecord

	// copyImage, one entry per target region
	copies map[string]*imageRecord

	// finalizeRegion, one entry per region that keeps an image
	finals map[string]*imageRecord
	// finalizeRegion, one entry per region that keeps an image: the
	// replacement of an old image of the final name that join makes
	swaps map[string]*swap

	// join
	// tagging is set before join tags the final images complete: a
	// cleanup that removes them (join failed after it) lifts the tag.
	tagging   atomic.Bool
	succeeded atomic.Bool
	artifact  *artifact.Artifact
}

// sourceImage is the resolved source AMI.
type sourceImage struct {
	ID, Name, Owner, OwnerName, CreationDate string
	Tags                                     map[string]string
	VirtualizationType                       types.VirtualizationType
	Mappings                                 []types.BlockDeviceMapping
	Architecture                             types.ArchitectureValues
	Windows                                  bool // platform "windows"
}

// instanceInfo is the build instance and its addresses.
type instanceInfo struct {
	ID                    string
	PublicIP, PrivateIP   string
	PublicDNS, PrivateDNS string
}

// instanceInfoOf returns what the build keeps of a running instance.
func instanceInfoOf(id string, inst types.Instance) instanceInfo {
	return instanceInfo{
		ID: id, PublicIP: aws.ToString(inst.PublicIpAddress), PrivateIP: aws.ToString(inst.PrivateIpAddress),
		PublicDNS: aws.ToString(inst.PublicDnsName), PrivateDNS: aws.ToString(inst.PrivateDnsName),
	}
}

// imageRecord is one image the build created in one region.
type imageRecord struct {
	Region, ID, Name string
	Snapshots        []string
	// Intermediate images are never kept: their creator's cleanup removes
	// them whatever the outcome.
	Intermediate bool
	// image is the waiter's last observation of the available image (its
	// tags and block devices, and its snapshots when the wait described
	// them), for checking it against what was asked.
	image awsapi.Image
	// kept is set once the journal keeps the image (join's commit): no
	// cleanup removes it.
	kept bool
	// pending is the create call when its outcome is unknown (ID empty):
	// the creator's cleanup resolves it.
	pending *pendingCreate
}

func (r *imageRecord) valid() bool { return r != nil && r.ID != "" }

// init creates the per-region entries: a copy per target region, a final
// image per region that keeps one.
//
// The build region has a copy entry too: a build whose image exists in
// some regions completes the others, the build region included, by
// copying.
func (s *state) init(buildRegion string, targets []string) {
	s.copies = make(map[string]*imageRecord, len(targets)+1)
	s.finals = make(map[string]*imageRecord, len(targets)+1)
	s.swaps = make(map[string]*swap, len(targets)+1)
	s.copies[buildRegion], s.finals[buildRegion], s.swaps[buildRegion] = &imageRecord{}, &imageRecord{}, &swap{}
	for _, r := range targets {
		s.copies[r] = &imageRecord{}
		s.finals[r], s.swaps[r] = &imageRecord{}, &swap{}
	}
}
