package amazon

import (
	"os"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/communicator"
	"github.com/imgbuild/imgbuild/internal/communicator/ssh"
)

// prepareKeyFiles parses the SSH key files the build reads when it
// connects, as the connect step parses them, so a key that is not a
// private key, is protected by a passphrase, or does not go with its
// certificate is refused before an instance is launched: the build's own
// ssh_private_key_file (with ssh_certificate_file), and the bastion's
// (with ssh_bastion_certificate_file) when there is a bastion. A file
// that does not exist is already reported by the communicator's checks.
func (c *SourceConfig) prepareKeyFiles(ctx *check.Context) {
	if c.Type != communicator.SSH {
		return
	}
	keyFile(ctx, "ssh_private_key_file", c.SSHPrivateKeyFile, "ssh_certificate_file", c.SSHCertificateFile)
	if ctx.Set(c.SSHBastionHost != "", "ssh_bastion_host") {
		keyFile(ctx, "ssh_bastion_private_key_file", c.SSHBastionPrivateKeyFile, "ssh_bastion_certificate_file", c.SSHBastionCertificateFile)
	}
}

// keyFile checks that the private key at keyPath parses, and that the
// certificate at certPath, when set, certifies it. The diagnostics never
// hold key material.
func keyFile(ctx *check.Context, keyAttr, keyPath, certAttr, certPath string) {
	data, ok := readLocal(ctx, keyAttr, keyPath)
	if !ok {
		return
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		ctx.Errorf(check.Path(keyAttr), "Unusable "+keyAttr,
			"%s cannot be used to log in: %v. The build reads this file when it connects to the instance.", keyPath, err)
		return
	}
	cert, ok := readLocal(ctx, certAttr, certPath)
	if !ok {
		return
	}
	if _, err := ssh.CertSigner(signer, cert); err != nil {
		ctx.Errorf(check.Path(certAttr), "Unusable "+certAttr,
			"%s cannot be used with %s: %v. It must be the OpenSSH certificate (a *-cert.pub file) of that key.", certPath, keyAttr, err)
	}
}

// readLocal reads the local file path of attr, when it is set, known and
// exists (a missing file is reported by the existence checks).
func readLocal(ctx *check.Context, attr, path string) ([]byte, bool) {
	if path == "" || ctx.IsUnknown(attr) || check.FileExists(ctx.BaseDir, path) != nil {
		return nil, false
	}
	data, err := os.ReadFile(check.Resolve(ctx.BaseDir, path))
	if err != nil {
		ctx.Errorf(check.Path(attr), "Unreadable "+attr, "%v", err)
		return nil, false
	}
	return data, true
}
