package bundle

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"embed"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// EC2's public bundling certificates, as shipped in the public
// ec2-ami-tools 1.5.3 distribution (etc/ec2/amitools/ of
// https://s3.amazonaws.com/ec2-downloads/ec2-ami-tools.zip, mirrored at
// github.com/traviscross/ec2-ami-tools commit 0f23e45). Only their RSA
// public keys are used: the ec2-ami-tools wrap the bundle key with them
// whatever the certificates' validity dates (cert-ec2.pem expired in 2006
// and is still the commercial regions' key in the last release).
//
//go:embed certs/cert-ec2.pem certs/cert-ec2-gov.pem certs/cert-ec2-cn-north-1.pem
var ec2Certs embed.FS

// ec2CertFiles maps an AWS partition to its certificate file. The tools
// pick cert-ec2-gov.pem for us-gov-west-1 and cert-ec2-cn-north-1.pem for
// cn-north-1; they knew no other region of those partitions.
var ec2CertFiles = map[string]string{
	"aws":        "certs/cert-ec2.pem",
	"aws-us-gov": "certs/cert-ec2-gov.pem",
	"aws-cn":     "certs/cert-ec2-cn-north-1.pem",
}

// EC2Certificate returns EC2's public bundling certificate of a partition:
// "aws", "aws-us-gov", "aws-cn".
func EC2Certificate(partition string) (*x509.Certificate, error) {
	file, ok := ec2CertFiles[partition]
	if !ok {
		return nil, fmt.Errorf("no EC2 bundling certificate is known for partition %q: set ec2_cert_path to the certificate of that partition", partition)
	}
	b, err := ec2Certs.ReadFile(file)
	if err != nil {
		return nil, err
	}
	c, err := parseCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("embedded EC2 certificate %s: %w", file, err)
	}
	return c, nil
}

// LoadUserKeys reads a PEM X.509 certificate and a PEM RSA private key
// (PKCS#1 or PKCS#8) and checks they match. Errors name the file (never
// its content): unreadable, not PEM, not RSA, mismatched.
func LoadUserKeys(certPath, keyPath string) (*x509.Certificate, *rsa.PrivateKey, error) {
	cert, err := LoadCertificate(certPath)
	if err != nil {
		return nil, nil, err
	}
	pub := cert.PublicKey.(*rsa.PublicKey)
	key, err := LoadPrivateKey(keyPath)
	if err != nil {
		return nil, nil, err
	}
	if !key.PublicKey.Equal(pub) {
		return nil, nil, fmt.Errorf("private key %s does not match certificate %s", keyPath, certPath)
	}
	return cert, key, nil
}

// LoadCertificate reads a PEM X.509 certificate whose key is RSA (the
// user's, or EC2's from ec2_cert_path). Errors name the file.
func LoadCertificate(certPath string) (*x509.Certificate, error) {
	cb, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	cert, err := parseCertificate(cb)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", certPath, err)
	}
	if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("certificate %s: its key is not an RSA key", certPath)
	}
	return cert, nil
}

// LoadPrivateKey reads a PEM RSA private key (PKCS#1 or PKCS#8). Errors
// name the file, never its content.
func LoadPrivateKey(keyPath string) (*rsa.PrivateKey, error) {
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	key, err := parsePrivateKey(kb)
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", keyPath, err)
	}
	return key, nil
}

func parseCertificate(b []byte) (*x509.Certificate, error) {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, errors.New("no PEM CERTIFICATE block")
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, errors.New("the CERTIFICATE block is not a valid X.509 certificate")
		}
		return c, nil
	}
}

// parsePrivateKey decodes the first private-key PEM block. Its errors say
// what is wrong without quoting the key.
func parsePrivateKey(b []byte) (*rsa.PrivateKey, error) {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, errors.New("no PEM private key block (want RSA PRIVATE KEY or PRIVATE KEY)")
		}
		switch block.Type {
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, errors.New("the RSA PRIVATE KEY block is not a valid PKCS#1 key")
			}
			return k, nil
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, errors.New("the PRIVATE KEY block is not a valid PKCS#8 key")
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("the key is a %s key, not RSA", keyKind(k))
			}
			return rk, nil
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the key is encrypted; give an unencrypted RSA key")
		case "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "DSA PRIVATE KEY":
			return nil, fmt.Errorf("the key is a %s, not an RSA key in PKCS#1 or PKCS#8 form", block.Type)
		}
	}
}

func keyKind(k any) string {
	switch k.(type) {
	case *ecdsa.PrivateKey:
		return "ECDSA"
	case ed25519.PrivateKey:
		return "Ed25519"
	}
	return "non-RSA"
}
