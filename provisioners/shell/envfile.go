package shell

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
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
func envFilePath(folder string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("name the environment file: %w", err)
	}
	return strings.TrimSuffix(folder, "/") + "/" + EnvFilePrefix + hex.EncodeToString(b[:]) + ".sh", nil
}

// envFileBody returns the environment file for vars (the variables
// formatted with env_var_format). The file works both ways that
// execute_command can use it:
//
//   - sourced (". {{.EnvVarFile}} && {{.Path}}"), it exports the
//     variables into the sourcing shell;
//   - run ("{{.Vars}}{{.Path}}", where {{.Vars}} is "sh <file> "), it
//     exports them, then executes its arguments in their place.
//
// set -a exports every assignment, so both Packer formats work:
// "export %s='%s'\n" (use_env_var_file) and "%s='%s' " (assignments on
// one line).
func envFileBody(vars string) []byte {
	return []byte("# Environment of an imgbuild shell provisioner; removed after the run.\n" +
		"set -a\n" + vars + "\nset +a\n" +
		`[ "$#" -eq 0 ] || exec "$@"` + "\n")
}

// plainWord matches paths that need no quoting in a POSIX shell.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellWord returns p as one shell word: as is when it needs no quoting
// (so it also works inside a single-quoted execute_command such as
// "sudo sh -c '{{.Vars}}{{.Path}}'"), single-quoted otherwise.
func shellWord(p string) string {
	if plainWord.MatchString(p) {
		return p
	}
	return "'" + script.QuoteSingle(p) + "'"
}
