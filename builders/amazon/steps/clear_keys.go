package steps

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"

	"github.com/imgbuild/imgbuild/internal/communicator"
	"github.com/imgbuild/imgbuild/internal/provision"
)

// clearAuthorizedKeysCommand returns the shell command that removes the
// lines holding the public key blob (base64, which has no '|') from the
// SSH user's ~/.ssh/authorized_keys and, through sudo unless the user is
// root, from /root/.ssh/authorized_keys. Like Packer's, it needs sed.
func clearAuthorizedKeysCommand(blob string) string {
	return fmt.Sprintf(`S=; [ "$(id -u)" = 0 ] || S="sudo -n"; `+
		`for f in ~/.ssh/authorized_keys; do [ ! -f "$f" ] || sed -i '\|%[1]s|d' "$f" || exit 1; done; `+
		`if $S test -f /root/.ssh/authorized_keys; then $S sed -i '\|%[1]s|d' /root/.ssh/authorized_keys || exit 1; fi`, blob)
}

// clearAuthorizedKeys removes the temporary key from the guest's
// authorized_keys files when ssh_clear_authorized_keys is set, as Packer
// does after provisioning: only over SSH with a temporary key pair. As in
// Packer, a failure is a warning, not a failed build.
func (b *build) clearAuthorizedKeys(ctx context.Context) {
	if !b.cfg.SSHClearAuthorizedKeys || b.cfg.Type != communicator.SSH || b.st.signer == nil || b.st.comm == nil {
		return
	}
	blob := base64.StdEncoding.EncodeToString(b.st.signer.PublicKey().Marshal())
	// Two buffers: the session copies stdout and stderr concurrently.
	var stdout, out bytes.Buffer
	b.say("removing the temporary key from authorized_keys on the instance (ssh_clear_authorized_keys)")
	code, err := b.st.comm.Run(ctx, &provision.Cmd{Command: clearAuthorizedKeysCommand(blob), Stdout: &stdout, Stderr: &out})
	out.Write(stdout.Bytes())
	switch {
	case err != nil:
		b.warn("could not remove the temporary key from authorized_keys, remove it by hand from the image: %v", err)
	case code != 0:
		b.warn("could not remove the temporary key from authorized_keys (exit status %d: %s), remove it by hand from the image",
			code, bytes.TrimSpace(out.Bytes()))
	}
}
