package bundle

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// manifestVersion is the only manifest version this package writes and reads.
const manifestVersion = "2007-10-10"

// The bundler named in manifests this package writes. EC2 does not read it;
// it sits outside the signed part of the manifest.
const (
	bundlerName    = "imgbuild"
	bundlerVersion = "1"
	bundlerRelease = "0"
)

// Algorithm names as the manifest spells them.
const (
	digestAlgorithm = "SHA1"
	cipherAlgorithm = "AES-128-CBC"
)

// Mapping is one block-device mapping of the manifest's machine
// configuration: Virtual is "ami", "root", "swap" or "ephemeralN"; Device
// is the device name ("sda1", "/dev/sda1").
type Mapping struct{ Virtual, Device string }

// PartInfo is one part as the manifest lists it: its file name and the hex
// SHA-1 of its bytes.
type PartInfo struct{ Name, SHA1 string }

// Manifest is a bundle's manifest (version 2007-10-10). Its exported fields
// describe the bundle; the document it was written as or parsed from, with
// the wrapped keys and the signature, is kept as is (see Bytes).
type Manifest struct {
	Name, Account, Arch, Digest string // Digest = hex SHA-1 of the tar stream
	Size, BundledSize           int64  // raw image bytes; sum of the parts' bytes
	Mappings                    []Mapping
	KernelID, RamdiskID         string
	Ancestors                   []string
	Parts                       []PartInfo

	doc       []byte // the whole signed document
	signed    []byte // <machine_configuration>…</machine_configuration><image>…</image>
	ec2Key    string // hex RSA ciphertexts
	userKey   string
	ec2IV     string
	userIV    string
	signature []byte
}

// Bytes returns the signed XML document exactly as it was written or parsed.
func (m *Manifest) Bytes() []byte { return bytes.Clone(m.doc) }

// Verify checks the manifest's signature with pub, the public key of the
// user's certificate.
func (m *Manifest) Verify(pub *rsa.PublicKey) error {
	if len(m.signature) == 0 {
		return errors.New("manifest is not signed")
	}
	sum := sha1.Sum(m.signed)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], m.signature); err != nil {
		return errors.New("manifest signature does not verify with this key: the manifest was changed or signed with another key")
	}
	return nil
}

// UserKey unwraps the bundle's AES key and IV with the user's private key.
func (m *Manifest) UserKey(k *rsa.PrivateKey) (key, iv []byte, err error) {
	return unwrapPair(k, "user", m.userKey, m.userIV)
}

// EC2Key unwraps the bundle's AES key and IV with EC2's private key (the
// counterpart of the certificate the bundle was made for).
func (m *Manifest) EC2Key(k *rsa.PrivateKey) (key, iv []byte, err error) {
	return unwrapPair(k, "ec2", m.ec2Key, m.ec2IV)
}

func unwrapPair(k *rsa.PrivateKey, who, hexKey, hexIV string) (key, iv []byte, err error) {
	if k == nil {
		return nil, nil, errors.New("no private key given")
	}
	if key, err = unwrap(k, hexKey); err != nil {
		return nil, nil, fmt.Errorf("%s_encrypted_key: %w", who, err)
	}
	if iv, err = unwrap(k, hexIV); err != nil {
		return nil, nil, fmt.Errorf("%s_encrypted_iv: %w", who, err)
	}
	return key, iv, nil
}

// wrap encrypts the lowercase hex string of secret for pub and returns the
// ciphertext in hex, as the manifest holds it.
func wrap(pub *rsa.PublicKey, secret []byte) (string, error) {
	//lint:ignore SA1019 the 2007-10-10 bundle format wraps keys with PKCS #1 v1.5; EC2 reads nothing else.
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, pub, []byte(hex.EncodeToString(secret)))
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(ct), nil
}

func unwrap(k *rsa.PrivateKey, hexCT string) ([]byte, error) {
	ct, err := hex.DecodeString(hexCT)
	if err != nil {
		return nil, errors.New("not hex")
	}
	//lint:ignore SA1019 the 2007-10-10 bundle format wraps keys with PKCS #1 v1.5; it is decrypted locally, once, so no oracle exists.
	pt, err := rsa.DecryptPKCS1v15(nil, k, ct)
	if err != nil {
		return nil, errors.New("cannot be decrypted with this key (the bundle was made for another certificate)")
	}
	if len(pt) != 32 {
		return nil, fmt.Errorf("decrypts to %d bytes, want the 32 hex digits of a 16-byte value", len(pt))
	}
	secret, err := hex.DecodeString(string(pt))
	if err != nil {
		return nil, errors.New("decrypts to something that is not hex")
	}
	return secret, nil
}

// signedPart returns what the manifest's signature covers: the text of the
// first <machine_configuration> element (empty when there is none) followed
// by that of the first <image> element, found by plain substring search as
// the ec2-ami-tools find them.
func signedPart(doc []byte) ([]byte, error) {
	mc, _ := element(doc, "machine_configuration")
	img, ok := element(doc, "image")
	if !ok {
		return nil, errors.New("manifest has no <image> element")
	}
	return append(bytes.Clone(mc), img...), nil
}

func element(doc []byte, name string) ([]byte, bool) {
	start := bytes.Index(doc, []byte("<"+name+">"))
	endTag := "</" + name + ">"
	end := bytes.Index(doc, []byte(endTag))
	if start < 0 || end < start {
		return nil, false
	}
	return doc[start : end+len(endTag)], true
}

// render writes the manifest document as the ec2-ami-tools' REXML writes
// it: declaration, then every element on one line, attributes in single
// quotes, optional elements left out when empty.
type render struct{ bytes.Buffer }

func (r *render) open(name string)  { r.WriteString("<" + name + ">") }
func (r *render) close(name string) { r.WriteString("</" + name + ">") }

func (r *render) text(name, value string) {
	r.open(name)
	r.WriteString(escapeText(value))
	r.close(name)
}

func (r *render) textAttr(name, attr, attrValue, value string) {
	r.WriteString("<" + name + " " + attr + "='" + attrValue + "'>")
	r.WriteString(escapeText(value))
	r.close(name)
}

func (r *render) optional(name, value string) {
	if value != "" {
		r.text(name, value)
	}
}

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escapeText(s string) string { return textEscaper.Replace(s) }

// machineConfiguration renders <machine_configuration>…</machine_configuration>.
func (m *Manifest) machineConfiguration() []byte {
	var r render
	r.open("machine_configuration")
	r.text("architecture", m.Arch)
	if len(m.Mappings) > 0 {
		r.open("block_device_mapping")
		for _, bd := range m.Mappings {
			r.open("mapping")
			r.text("virtual", bd.Virtual)
			r.text("device", bd.Device)
			r.close("mapping")
		}
		r.close("block_device_mapping")
	}
	r.optional("kernel_id", m.KernelID)
	r.optional("ramdisk_id", m.RamdiskID)
	r.close("machine_configuration")
	return r.Bytes()
}

// image renders <image>…</image>.
func (m *Manifest) image() []byte {
	var r render
	r.open("image")
	r.text("name", m.Name)
	r.text("user", m.Account)
	r.text("type", "machine")
	if len(m.Ancestors) > 0 {
		r.open("ancestry")
		for _, a := range m.Ancestors {
			r.text("ancestor_ami_id", a)
		}
		r.close("ancestry")
	}
	r.textAttr("digest", "algorithm", digestAlgorithm, m.Digest)
	r.text("size", strconv.FormatInt(m.Size, 10))
	r.text("bundled_size", strconv.FormatInt(m.BundledSize, 10))
	r.textAttr("ec2_encrypted_key", "algorithm", cipherAlgorithm, m.ec2Key)
	r.textAttr("user_encrypted_key", "algorithm", cipherAlgorithm, m.userKey)
	r.text("ec2_encrypted_iv", m.ec2IV)
	r.text("user_encrypted_iv", m.userIV)
	r.WriteString("<parts count='" + strconv.Itoa(len(m.Parts)) + "'>")
	for i, p := range m.Parts {
		r.WriteString("<part index='" + strconv.Itoa(i) + "'>")
		r.text("filename", p.Name)
		r.textAttr("digest", "algorithm", digestAlgorithm, p.SHA1)
		r.close("part")
	}
	r.close("parts")
	r.close("image")
	return r.Bytes()
}

// sign renders the whole document and signs it with k, filling doc, signed
// and signature.
func (m *Manifest) sign(k *rsa.PrivateKey) error {
	mc, img := m.machineConfiguration(), m.image()
	m.signed = append(append([]byte{}, mc...), img...)
	sum := sha1.Sum(m.signed)
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA1, sum[:])
	if err != nil {
		return fmt.Errorf("sign manifest: %w", err)
	}
	m.signature = sig
	var r render
	r.WriteString("<?xml version='1.0'?>")
	r.open("manifest")
	r.text("version", manifestVersion)
	r.open("bundler")
	r.text("name", bundlerName)
	r.text("version", bundlerVersion)
	r.text("release", bundlerRelease)
	r.close("bundler")
	r.Write(mc)
	r.Write(img)
	r.text("signature", hex.EncodeToString(sig))
	r.close("manifest")
	m.doc = r.Bytes()
	return nil
}
