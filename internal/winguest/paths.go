package winguest

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// winPath is a Windows path resolved to a drive and clean components.
type winPath struct {
	drive string   // lower-case letter
	parts []string // no "", "." or ".."
}

// String writes the path the Windows way: C:\Windows\Temp\a.ps1.
func (p winPath) String() string {
	return strings.ToUpper(p.drive) + `:\` + strings.Join(p.parts, `\`)
}

// under returns where the path is kept below a layer directory:
// <dir>/<drive>/<components>.
func (p winPath) under(dir string) string {
	return filepath.Join(append([]string{dir, p.drive}, p.parts...)...)
}

// envVars are the environment variables the guest expands in paths, with
// "<user>" standing for the user's name. The guest keeps %TEMP% in
// C:\Windows\Temp for every user.
var envVars = map[string]string{
	"temp":         `C:\Windows\Temp`,
	"tmp":          `C:\Windows\Temp`,
	"systemroot":   `C:\Windows`,
	"windir":       `C:\Windows`,
	"systemdrive":  `C:`,
	"programfiles": `C:\Program Files`,
	"programdata":  `C:\ProgramData`,
	"userprofile":  `C:\Users\<user>`,
}

var (
	cmdVarRE = regexp.MustCompile(`%([A-Za-z_][A-Za-z0-9_()]*)%`)
	psVarRE  = regexp.MustCompile(`(?i)\$env:([A-Za-z_][A-Za-z0-9_]*)`)
)

// expandVars replaces %NAME% and $env:NAME references to the variables of
// envVars (names compare case-insensitively); others are left alone.
func expandVars(s, user string) string {
	expand := func(re *regexp.Regexp, s string) string {
		return re.ReplaceAllStringFunc(s, func(m string) string {
			name := re.FindStringSubmatch(m)[1]
			if v, ok := envVars[strings.ToLower(name)]; ok {
				return strings.ReplaceAll(v, "<user>", userName(user))
			}
			return m
		})
	}
	return expand(psVarRE, expand(cmdVarRE, s))
}

// userName is the account name without a domain: "EC2AMAZ\bob" is "bob".
func userName(user string) string {
	return user[strings.LastIndex(user, `\`)+1:]
}

// resolvePath reads a Windows path as the guest does for user: quotes
// around it are dropped, variables expanded, "/" and "\" alike, the drive
// letter case-insensitive (C: when missing); a relative path is relative
// to the user's profile directory C:\Users\<user>. ".." never leaves the
// drive's root. Network paths are refused.
func resolvePath(s, user string) (winPath, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		s = s[1 : len(s)-1]
	}
	raw := s
	s = strings.ReplaceAll(expandVars(s, user), "/", `\`)
	switch {
	case s == "":
		return winPath{}, errors.New("empty path")
	case strings.ContainsRune(s, 0):
		return winPath{}, fmt.Errorf("invalid path %q", raw)
	case strings.HasPrefix(s, `\\`):
		return winPath{}, fmt.Errorf("network path %s is not supported by the simulated guest", raw)
	}
	p := winPath{drive: "c"}
	switch {
	case len(s) >= 2 && s[1] == ':' && isLetter(s[0]):
		p.drive = strings.ToLower(s[:1])
		s = s[2:]
	case strings.HasPrefix(s, `\`):
	default:
		s = `Users\` + userName(user) + `\` + s
	}
	for _, part := range strings.Split(s, `\`) {
		switch part {
		case "", ".":
		case "..":
			if len(p.parts) > 0 {
				p.parts = p.parts[:len(p.parts)-1]
			}
		default:
			p.parts = append(p.parts, part)
		}
	}
	return p, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
