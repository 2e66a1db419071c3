package shell

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
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
func envFilePath(folder string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("name the environment file: %w", err)
	}
	return strings.TrimSuffix(folder, "/") + "/" + EnvFilePrefix + hex.EncodeToString(b[:]) + ".sh", nil
}
