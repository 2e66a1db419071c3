package sysprep

import (
	"regexp"
	"strings"
)

// Patterns of what the simulated Windows guest takes for a command that
// stops or restarts Windows (winspec.md), matched more loosely than the
// guest does: anywhere in the text, across lines, case-insensitively. A
// script none of them matches stops nothing in the guest.
var stopPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?is)ec2launch(\.exe)?\b.*\bsysprep\b.*(--shutdown|\s-s(\s|$))`),
	regexp.MustCompile(`(?i)sysprepinstance\.ps1`),
	regexp.MustCompile(`(?is)ec2config\.exe.*-sysprep`),
	regexp.MustCompile(`(?is)sysprep\.exe.*/shutdown`),
	regexp.MustCompile(`(?i)shutdown(\.exe)?\s+[/-][sr]\b`),
	regexp.MustCompile(`(?i)(stop|restart)-computer`),
}

// stopsGuest reports whether the guest could take text for a command that
// stops Windows, and which pattern matches.
func stopsGuest(text string) (bool, string) {
	for _, re := range stopPatterns {
		if re.MatchString(text) {
			return true, re.String()
		}
	}
	return false, ""
}

// isToolScript reports whether text starts like one of imgbuild's tool
// scripts, which the guest interprets instead of running.
func isToolScript(text string) bool {
	return strings.HasPrefix(text, "# imgbuild ")
}
