package ssh

import (
	"errors"
	"fmt"
	"os"

	gossh "golang.org/x/crypto/ssh"
)

// ErrPassphraseProtected is matched (with errors.Is) by the error
// [ParsePrivateKey] returns for an encrypted key. imgbuild does not prompt
// for passphrases: use an unencrypted key or an SSH agent.
var ErrPassphraseProtected = errors.New("private key is protected by a passphrase; use an unencrypted key or ssh agent authentication")

// ParsePrivateKey parses a PEM-encoded private key (OpenSSH, PKCS#1, PKCS#8
// or SEC1; ed25519, RSA or ECDSA) into a signer. The error never contains
// key material.
func ParsePrivateKey(pemBytes []byte) (gossh.Signer, error) {
	signer, err := gossh.ParsePrivateKey(pemBytes)
	var missing *gossh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, ErrPassphraseProtected
	case err != nil:
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	return signer, nil
}

// SignerFromFile reads and parses the private key file at path (see
// [ParsePrivateKey]); errors name the file.
func SignerFromFile(path string) (gossh.Signer, error) {
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ssh private key: %w", err)
	}
	signer, err := ParsePrivateKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("ssh private key %s: %w", path, err)
	}
	return signer, nil
}

// CertSigner returns a signer that presents the OpenSSH certificate in
// authorized-keys format (the content of an "id_ed25519-cert.pub" file)
// together with the signer's key. The certificate must certify that key.
func CertSigner(signer gossh.Signer, certAuthorizedKey []byte) (gossh.Signer, error) {
	pub, _, _, _, err := gossh.ParseAuthorizedKey(certAuthorizedKey)
	if err != nil {
		return nil, fmt.Errorf("parse ssh certificate: %w", err)
	}
	cert, ok := pub.(*gossh.Certificate)
	if !ok {
		return nil, fmt.Errorf("parse ssh certificate: got a %s public key, not a certificate", pub.Type())
	}
	certSigner, err := gossh.NewCertSigner(cert, signer)
	if err != nil {
		return nil, fmt.Errorf("ssh certificate: %w", err)
	}
	return certSigner, nil
}
