package steps

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
)

// maxImageName is EC2's limit on AMI names.
const maxImageName = 128

// run8 returns the first eight letters or digits of a run ID, the short
// form used in resource names.
func run8(runID string) string {
	var b strings.Builder
	for _, r := range runID {
		if b.Len() == 8 {
			break
		}
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// buildHash returns eight hex digits identifying a build name, so that
// parallel builds of one run get distinct resource names.
func buildHash(buildName string) string {
	sum := sha256.Sum256([]byte(buildName))
	return hex.EncodeToString(sum[:4])
}

// temporaryName returns the name of a temporary key pair or security
// group: imgbuild_<run-id-8>_<build-hash>.
func temporaryName(runID, buildName string) string {
	return "imgbuild_" + run8(runID) + "_" + buildHash(buildName)
}

// intermediateName returns the temporary name of an image that is later
// copied to name: "<name>-imgbuild-<run8>", with name shortened so the
// whole fits EC2's 128 characters.
func intermediateName(name, runID string) string {
	suffix := "-imgbuild-" + run8(runID)
	if len(name)+len(suffix) > maxImageName {
		name = name[:maxImageName-len(suffix)]
	}
	return name + suffix
}

// clientToken derives the idempotency token of a create call from the
// run, the build, the region and what is created, so that a retried call
// (by the SDK or by a resumed run) never creates a second resource. EC2
// accepts up to 64 ASCII characters.
func clientToken(runID, buildName, region, what string) string {
	sum := sha256.Sum256([]byte(runID + "\x00" + buildName + "\x00" + region + "\x00" + what))
	return "imgbuild-" + hex.EncodeToString(sum[:20])
}
