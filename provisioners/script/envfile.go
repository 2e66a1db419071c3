package script

import "regexp"

// EnvFileBody returns the environment file for vars (the variables
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
func EnvFileBody(vars string) []byte {
	return []byte("# Environment of an imgbuild script; removed after the run.\n" +
		"set -a\n" + vars + "\nset +a\n" +
		`[ "$#" -eq 0 ] || exec "$@"` + "\n")
}

// plainWord matches paths that need no quoting in a POSIX shell.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// ShellWord returns p as one shell word: as is when it needs no quoting
// (so it also works inside a single-quoted execute_command such as
// "sudo sh -c '{{.Vars}}{{.Path}}'"), single-quoted otherwise.
func ShellWord(p string) string {
	if plainWord.MatchString(p) {
		return p
	}
	return "'" + QuoteSingle(p) + "'"
}
