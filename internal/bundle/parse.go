package bundle

import (
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The manifest as encoding/xml reads it.
type xmlManifest struct {
	XMLName xml.Name `xml:"manifest"`
	Version string   `xml:"version"`
	Machine struct {
		Arch     string `xml:"architecture"`
		Mappings []struct {
			Virtual string `xml:"virtual"`
			Device  string `xml:"device"`
		} `xml:"block_device_mapping>mapping"`
		KernelID  string `xml:"kernel_id"`
		RamdiskID string `xml:"ramdisk_id"`
	} `xml:"machine_configuration"`
	Image struct {
		Name        string   `xml:"name"`
		User        string   `xml:"user"`
		Type        string   `xml:"type"`
		Ancestors   []string `xml:"ancestry>ancestor_ami_id"`
		Digest      xmlAlgo  `xml:"digest"`
		Size        string   `xml:"size"`
		BundledSize string   `xml:"bundled_size"`
		EC2Key      xmlAlgo  `xml:"ec2_encrypted_key"`
		UserKey     xmlAlgo  `xml:"user_encrypted_key"`
		EC2IV       string   `xml:"ec2_encrypted_iv"`
		UserIV      string   `xml:"user_encrypted_iv"`
		Parts       struct {
			Count string `xml:"count,attr"`
			Part  []struct {
				Index    string  `xml:"index,attr"`
				Filename string  `xml:"filename"`
				Digest   xmlAlgo `xml:"digest"`
			} `xml:"part"`
		} `xml:"parts"`
	} `xml:"image"`
	Signature string `xml:"signature"`
}

type xmlAlgo struct {
	Algorithm string `xml:"algorithm,attr"`
	Value     string `xml:",chardata"`
}

// ParseManifest parses a manifest document. It reads version 2007-10-10
// and refuses other versions; it checks the document is complete (parts
// numbered 0..count-1, digests and wrapped keys in hex, part names without
// a directory) but not its signature (see Verify).
func ParseManifest(doc []byte) (*Manifest, error) {
	var x xmlManifest
	if err := xml.Unmarshal(doc, &x); err != nil {
		return nil, fmt.Errorf("manifest is not valid XML: %w", err)
	}
	if v := strings.TrimSpace(x.Version); v != manifestVersion {
		if v == "" {
			return nil, errors.New("manifest has no <version>")
		}
		return nil, fmt.Errorf("manifest version %q is not supported: only %s manifests (written by ec2-ami-tools 1.3 and later) are read", v, manifestVersion)
	}
	m := &Manifest{
		Name:      strings.TrimSpace(x.Image.Name),
		Account:   strings.TrimSpace(x.Image.User),
		Arch:      strings.TrimSpace(x.Machine.Arch),
		Digest:    strings.ToLower(strings.TrimSpace(x.Image.Digest.Value)),
		KernelID:  strings.TrimSpace(x.Machine.KernelID),
		RamdiskID: strings.TrimSpace(x.Machine.RamdiskID),
		ec2Key:    strings.TrimSpace(x.Image.EC2Key.Value),
		userKey:   strings.TrimSpace(x.Image.UserKey.Value),
		ec2IV:     strings.TrimSpace(x.Image.EC2IV),
		userIV:    strings.TrimSpace(x.Image.UserIV),
		doc:       bytes.Clone(doc),
	}
	for _, a := range x.Image.Ancestors {
		m.Ancestors = append(m.Ancestors, strings.TrimSpace(a))
	}
	for _, bd := range x.Machine.Mappings {
		m.Mappings = append(m.Mappings, Mapping{Virtual: strings.TrimSpace(bd.Virtual), Device: strings.TrimSpace(bd.Device)})
	}
	if err := m.checkImage(&x); err != nil {
		return nil, err
	}
	parts, err := parseParts(&x)
	if err != nil {
		return nil, err
	}
	m.Parts = parts
	if m.signature, err = hex.DecodeString(strings.TrimSpace(x.Signature)); err != nil {
		return nil, errors.New("manifest <signature> is not hex")
	}
	if m.signed, err = signedPart(m.doc); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Manifest) checkImage(x *xmlManifest) error {
	if m.Name == "" {
		return errors.New("manifest has no <image><name>")
	}
	if a := x.Image.Digest.Algorithm; a != digestAlgorithm {
		return fmt.Errorf("manifest image digest algorithm %q is not supported (want %s)", a, digestAlgorithm)
	}
	if !isSHA1Hex(m.Digest) {
		return fmt.Errorf("manifest image digest %q is not a hex SHA-1", m.Digest)
	}
	var err error
	if m.Size, err = parseSize("size", x.Image.Size); err != nil {
		return err
	}
	if m.BundledSize, err = parseSize("bundled_size", x.Image.BundledSize); err != nil {
		return err
	}
	for _, k := range []xmlAlgo{x.Image.EC2Key, x.Image.UserKey} {
		if k.Algorithm != cipherAlgorithm {
			return fmt.Errorf("manifest cipher %q is not supported (want %s)", k.Algorithm, cipherAlgorithm)
		}
	}
	for name, v := range map[string]string{"ec2_encrypted_key": m.ec2Key, "user_encrypted_key": m.userKey, "ec2_encrypted_iv": m.ec2IV, "user_encrypted_iv": m.userIV} {
		if _, err := hex.DecodeString(v); err != nil || v == "" {
			return fmt.Errorf("manifest <%s> is missing or not hex", name)
		}
	}
	return nil
}

func parseSize(name, s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("manifest <%s> %q is not a byte count", name, s)
	}
	return n, nil
}

// parseParts returns the parts in index order, checking they are numbered
// 0..count-1 once each.
func parseParts(x *xmlManifest) ([]PartInfo, error) {
	xp := x.Image.Parts
	count, err := strconv.Atoi(strings.TrimSpace(xp.Count))
	if err != nil || count != len(xp.Part) {
		return nil, fmt.Errorf("manifest <parts count=%q> does not match its %d <part> elements", xp.Count, len(xp.Part))
	}
	if count == 0 {
		return nil, errors.New("manifest lists no parts")
	}
	parts := make([]PartInfo, count)
	seen := make([]bool, count)
	for _, p := range xp.Part {
		i, err := strconv.Atoi(strings.TrimSpace(p.Index))
		if err != nil || i < 0 || i >= count || seen[i] {
			return nil, fmt.Errorf("manifest part index %q is invalid or repeated (want 0 to %d, once each)", p.Index, count-1)
		}
		seen[i] = true
		name := strings.TrimSpace(p.Filename)
		if err := checkPartName(name); err != nil {
			return nil, err
		}
		if p.Digest.Algorithm != digestAlgorithm {
			return nil, fmt.Errorf("part %s: digest algorithm %q is not supported (want %s)", name, p.Digest.Algorithm, digestAlgorithm)
		}
		sum := strings.ToLower(strings.TrimSpace(p.Digest.Value))
		if !isSHA1Hex(sum) {
			return nil, fmt.Errorf("part %s: digest %q is not a hex SHA-1", name, sum)
		}
		parts[i] = PartInfo{Name: name, SHA1: sum}
	}
	names := make([]string, count)
	for i, p := range parts {
		names[i] = p.Name
	}
	slices.Sort(names)
	if len(slices.Compact(names)) != count {
		return nil, errors.New("manifest lists a part file name twice")
	}
	return parts, nil
}

// checkPartName refuses names that would leave the manifest's directory or
// S3 prefix.
func checkPartName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
		return fmt.Errorf("manifest part file name %q is not a plain file name", name)
	}
	return nil
}

func isSHA1Hex(s string) bool {
	if len(s) != 40 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
