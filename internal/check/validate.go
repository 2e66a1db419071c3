package check

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/imgbuild/imgbuild/internal/interpolate"
)

// MaxUserData is the largest user data EC2 accepts, in bytes before base64.
const MaxUserData = 16 * 1024

var (
	regionRE = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$`)
	amiIDRE  = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// AMIName checks a rendered AMI name: 3 to 128 characters among letters,
// digits and ( ) [ ] space . / - ' @ _.
func AMIName(name string) error {
	if n := len(name); n < 3 || n > 128 {
		return fmt.Errorf("AMI name %q is %d characters long; it must be 3 to 128", name, n)
	}
	for _, r := range name {
		if !interpolate.AMINameChar(r) {
			return fmt.Errorf("AMI name %q contains %q; only letters, digits, parentheses, square brackets, spaces, periods, slashes, dashes, single quotes, at-signs and underscores are allowed (the clean_resource_name function replaces the others)", name, r)
		}
	}
	return nil
}

// TemplatedAMIName renders the legacy placeholders of name with sample
// values, then checks the result with AMIName.
func TemplatedAMIName(name string) error {
	rendered, err := interpolate.RenderSample(name)
	if err != nil {
		return err
	}
	return AMIName(rendered)
}

// Region checks the shape of an AWS region name, such as us-east-1 or
// us-gov-west-1. It does not ask AWS whether the region exists.
func Region(s string) error {
	if !regionRE.MatchString(s) {
		return fmt.Errorf("%q is not a region name such as us-east-1 or eu-central-2", s)
	}
	return nil
}

// AMIID checks that s looks like an AMI ID: "ami-" and 8 or 17 hex digits.
func AMIID(s string) error {
	if !amiIDRE.MatchString(s) {
		return fmt.Errorf("%q is not an AMI ID (ami- followed by 8 or 17 hexadecimal digits)", s)
	}
	return nil
}

// Duration parses a Go duration such as "5m" or "1h30m". Negative values
// are rejected.
func Duration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 30s, 5m or 1h30m", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return d, nil
}

// DurationValue returns the parsed duration s, or 0 when s is empty or
// invalid. Use it on configuration that Prepare has already checked.
func DurationValue(s string) time.Duration {
	d, _ := Duration(s)
	return d
}

// RFC3339 checks that s is a timestamp such as 2030-01-02T15:04:05Z.
func RFC3339(s string) error {
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		return fmt.Errorf("%q is not an RFC 3339 timestamp such as 2030-01-02T15:04:05Z", s)
	}
	return nil
}

// OneOf checks that s is one of allowed.
func OneOf(s string, allowed ...string) error {
	if !slices.Contains(allowed, s) {
		return fmt.Errorf("%q is not one of %s", s, quoteList(allowed))
	}
	return nil
}

// CIDR checks that s is an IPv4 or IPv6 CIDR block such as 10.0.0.0/8.
func CIDR(s string) error {
	if _, _, err := net.ParseCIDR(s); err != nil {
		return fmt.Errorf("%q is not a CIDR block such as 203.0.113.0/24", s)
	}
	return nil
}

// Resolve returns path made absolute: "~/" is the user's home directory and
// a relative path is relative to baseDir.
func Resolve(baseDir, path string) string {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if filepath.IsAbs(path) || baseDir == "" {
		return path
	}
	return filepath.Join(baseDir, path)
}

// FileExists checks that path (resolved with Resolve) names a regular file.
func FileExists(baseDir, path string) error {
	fi, err := os.Stat(Resolve(baseDir, path))
	if err != nil {
		return fmt.Errorf("file %q: %w", path, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("%q is a directory, not a file", path)
	}
	return nil
}

// PathExists checks that path (resolved with Resolve) names a file or a
// directory.
func PathExists(baseDir, path string) error {
	if _, err := os.Stat(Resolve(baseDir, path)); err != nil {
		return fmt.Errorf("file %q: %w", path, err)
	}
	return nil
}

// UserDataSize checks that user data fits EC2's limit of 16 KB before
// base64 encoding.
func UserDataSize(n int) error {
	if n > MaxUserData {
		return fmt.Errorf("user data is %d bytes; EC2 accepts at most %d bytes before base64 encoding", n, MaxUserData)
	}
	return nil
}

// windowsTags are the tags of Windows user data, which the EC2 agents
// match case-sensitively.
var windowsTags = []string{"powershell", "script", "persist", "powershellArguments", "runAsLocalSystem"}

// WindowsUserData checks the tags of Windows user data: the agents ignore
// a tag in another case ("<PowerShell>") or without its closing tag, and
// the script silently never runs. User data without such tags passes.
func WindowsUserData(s string) error {
	lower := strings.ToLower(s)
	for _, tag := range windowsTags {
		for _, t := range []string{"<" + tag + ">", "</" + tag + ">"} {
			for i := 0; ; {
				j := strings.Index(lower[i:], strings.ToLower(t))
				if j < 0 {
					break
				}
				if got := s[i+j : i+j+len(t)]; got != t {
					return fmt.Errorf("%s must be written %s: the EC2 Windows agents match the tags case-sensitively and would not run this script", got, t)
				}
				i += j + len(t)
			}
		}
		open, closing := strings.Count(s, "<"+tag+">"), strings.Count(s, "</"+tag+">")
		if open != closing {
			return fmt.Errorf("<%s> appears %d times and </%s> %d times: each script needs its opening and closing tag", tag, open, tag, closing)
		}
	}
	return nil
}

// EnvVar checks a "KEY=value" entry of environment_vars.
func EnvVar(s string) error {
	key, _, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(key) == "" {
		return fmt.Errorf("%q is not of the form KEY=value", s)
	}
	return nil
}

// CommandTemplate checks that s, a command with Go-template placeholders
// of its own (such as execute_command's {{.Path}}), parses and renders
// when only the placeholders named by keys exist.
func CommandTemplate(s string, keys ...string) error {
	data := make(map[string]string, len(keys))
	for _, k := range keys {
		data[k] = "x"
	}
	tpl, err := template.New("command").Option("missingkey=error").Parse(s)
	if err == nil {
		err = tpl.Execute(io.Discard, data)
	}
	if err != nil {
		return fmt.Errorf("%w; the placeholders are %s", err, placeholderList(keys))
	}
	return nil
}

func placeholderList(keys []string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = "{{." + k + "}}"
	}
	return strings.Join(out, ", ")
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
