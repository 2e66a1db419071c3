package interpolate

import (
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/google/uuid"
	strftime "github.com/jehiah/go-strftime"
)

// funcs returns the template functions Packer's legacy templates offer.
func funcs(data Data) template.FuncMap {
	return template.FuncMap{
		"timestamp":           func() string { return strconv.FormatInt(data.Now.Unix(), 10) },
		"isotime":             func(layout ...string) (string, error) { return isotime(data.Now, layout) },
		"uuid":                func() string { return uuid.NewString() },
		"build_name":          func() string { return data.BuildName },
		"build_type":          func() string { return data.BuildType },
		"clean_resource_name": CleanResourceName,
		"lower":               strings.ToLower,
		"upper":               strings.ToUpper,
		"replace":             func(old, new string, n int, s string) string { return strings.Replace(s, old, new, n) },
		"replace_all":         func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		"split":               split,
		"packer_version":      func() string { return PackerVersion },
		"strftime":            func(format string) string { return strftime.Format(format, data.Now.UTC()) },
	}
}

// PackerVersion is the Packer version imgbuild follows, rendered by
// {{packer_version}} and given to HCL templates as packer.version.
const PackerVersion = "1.16.0"

// isotime formats now in UTC with an optional Go layout, RFC 3339 by default.
func isotime(now time.Time, layout []string) (string, error) {
	switch len(layout) {
	case 0:
		return now.UTC().Format(time.RFC3339), nil
	case 1:
		return now.UTC().Format(layout[0]), nil
	default:
		return "", fmt.Errorf("isotime takes at most one layout, got %d", len(layout))
	}
}

// split splits s around sep and returns part i, as Packer's split does.
func split(s, sep string, i int) (string, error) {
	parts := strings.Split(s, sep)
	if i < 0 || i >= len(parts) {
		return "", fmt.Errorf("split: index %d out of range: %q has %d parts", i, s, len(parts))
	}
	return parts[i], nil
}

// CleanResourceName replaces every character not allowed in an AMI name
// with '-'. Allowed are ASCII letters and digits and ( ) [ ] space . / - ' @ _,
// as in Packer's amazon clean_resource_name.
func CleanResourceName(s string) string {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if AMINameChar(r) {
			out = append(out, byte(r))
		} else {
			out = append(out, '-')
		}
	}
	return string(out)
}

// AMINameChar reports whether r may appear in an AMI name.
func AMINameChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("()[] ./-'@_", r)
}
