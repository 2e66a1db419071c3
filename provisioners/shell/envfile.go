package shell

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// EnvFilePrefix starts the name, in remote_folder, of the file that holds
// a run's environment; a random suffix makes it unguessable.
const EnvFilePrefix = "imgbuild-env-"

// removeTimeout bounds the removal of the environment file after the run,
// which is attempted even when the run was interrupted.
const removeTimeout = time.Minute

// envFilePath returns a fresh environment file path in folder.
func envFilePath(folder string) string {
	return strings.TrimSuffix(folder, "/") + "/" + EnvFilePrefix + randomHex(8) + ".sh"
}

// randomHex returns n random bytes in hexadecimal.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail (Go 1.24)
	return hex.EncodeToString(b)
}
