package shell

import (
	"strings"
	"time"

	"github.com/imgbuild/imgbuild/provisioners/script"
)

// EnvFilePrefix starts the name, in remote_folder, of the file that holds
// a run's environment; a random suffix makes it unguessable.
const EnvFilePrefix = "imgbuild-env-"

// removeTimeout bounds the removal of the environment file after the run,
// which is attempted even when the run was interrupted.
const removeTimeout = time.Minute

// envFilePath returns a fresh environment file path in folder.
func envFilePath(folder string) string {
	return strings.TrimSuffix(folder, "/") + "/" + EnvFilePrefix + script.RandomHex(8) + ".sh"
}
