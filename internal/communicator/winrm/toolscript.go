package winrm

import (
	"strings"
)

// Operations of imgbuild's tool scripts (see the package documentation).
const (
	OpRestore       = "restore"        // $src, $dst: decode an uploaded temporary file into dst
	OpMkdir         = "mkdir"          // $path: create a directory and its parents
	OpDownload      = "download"       // $path: print a file's content as base64
	OpList          = "list"           // $path: list a directory tree
	OpElevated      = "elevated"       // $name, $user, $password, $command, $log: run as another user
	OpRegistryCheck = "registry-check" // $keys: print the registry keys that exist
)

// ToolScriptHeader starts the first line of every tool script; the
// operation follows it on the same line.
const ToolScriptHeader = "# imgbuild "

// progressPrefix is what winrm.Powershell puts before every encoded script,
// so the header of an encoded tool script follows it on the first line.
const progressPrefix = "$ProgressPreference = 'SilentlyContinue';"

// Var is one variable of a tool script: name (without "$") and value.
type Var = [2]string

// ToolScript returns the head of a tool script: the header line
// "# imgbuild <op>", one line "$<name> = '<value>'" per variable, and an
// empty line, which ends the variables (so the body may assign variables
// of its own). The caller appends the PowerShell that does the operation
// on a real Windows host with those variables. Names must be PowerShell
// identifiers (letters, digits, "_").
func ToolScript(op string, vars ...Var) string {
	var b strings.Builder
	b.WriteString(ToolScriptHeader + op + "\n")
	for _, v := range vars {
		b.WriteString("$" + v[0] + " = " + Quote(v[1]) + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

// Quote returns s as a PowerShell single-quoted string: nothing in it is
// expanded, and a "'" is doubled.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// ParseToolScript reads the head of a tool script as [ToolScript] writes
// it: the operation and the variables. It accepts the script as sent
// (decoded from -EncodedCommand, with winrm.Powershell's
// $ProgressPreference prefix) or as a file (with or without a UTF-8 byte
// order mark, CRLF or LF line ends). ok is false when text is not a tool
// script. Variables end at the first line that is not a variable
// assignment (ToolScript's empty line); a value may span lines.
func ParseToolScript(text string) (op string, vars map[string]string, ok bool) {
	text = strings.TrimPrefix(text, "\ufeff")
	text = strings.TrimLeft(text, " \t\r\n")
	text = strings.TrimPrefix(text, progressPrefix)
	line, rest, _ := strings.Cut(text, "\n")
	line = strings.TrimRight(line, " \t\r")
	op, found := strings.CutPrefix(line, ToolScriptHeader)
	if !found || op == "" || strings.ContainsAny(op, " \t") {
		return "", nil, false
	}
	vars = map[string]string{}
	for {
		name, value, after, ok := parseVar(rest)
		if !ok {
			return op, vars, true
		}
		vars[name] = value
		rest = after
	}
}

// parseVar reads one line "$name = 'value'" from the start of s and
// returns what follows its line end.
func parseVar(s string) (name, value, rest string, ok bool) {
	s = strings.TrimLeft(s, " \t")
	if !strings.HasPrefix(s, "$") {
		return "", "", "", false
	}
	i := 1
	for i < len(s) && isIdentChar(s[i]) {
		i++
	}
	if i == 1 {
		return "", "", "", false
	}
	name = s[1:i]
	s = strings.TrimLeft(s[i:], " \t")
	if !strings.HasPrefix(s, "=") {
		return "", "", "", false
	}
	s = strings.TrimLeft(s[1:], " \t")
	if !strings.HasPrefix(s, "'") {
		return "", "", "", false
	}
	var b strings.Builder
	for i = 1; ; i++ {
		if i >= len(s) {
			return "", "", "", false // unterminated
		}
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		break
	}
	s = strings.TrimLeft(s[i+1:], " \t\r")
	switch {
	case s == "":
		return name, b.String(), "", true
	case s[0] == '\n':
		return name, b.String(), s[1:], true
	}
	return "", "", "", false // more on the line: not a plain assignment
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
