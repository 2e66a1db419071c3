package winguest

import (
	"regexp"
	"strings"
)

// Sysprep commands of the AWS agents, matched per line, case-insensitively.
var (
	ec2launchV2RE = regexp.MustCompile(`(?i)\bec2launch(?:\.exe)?["']?[ \t]+sysprep\b(.*)`)
	ec2launchV1RE = regexp.MustCompile(`(?i)\bSysprepInstance\.ps1\b(.*)`)
	noShutdownRE  = regexp.MustCompile(`(?i)(?:^|\s)-NoShutdown\b`)
	ec2configRE   = regexp.MustCompile(`(?i)\bec2config(?:\.exe)?["']?[ \t]+-sysprep\b`)
	sysprepExeRE  = regexp.MustCompile(`(?i)\bsysprep(?:\.exe)?["']?[ \t](.*)`)
)

// Power commands, matched per line, case-insensitively.
var (
	shutdownRE   = regexp.MustCompile(`(?i)\bshutdown(?:\.exe)?["']?[ \t](.*)`)
	restartCmdRE = regexp.MustCompile(`(?i)\bRestart-Computer\b`)
	stopCmdRE    = regexp.MustCompile(`(?i)\bStop-Computer\b`)
	// restartCheckRE is windows-restart's default check command.
	restartCheckRE = regexp.MustCompile(`(?i)Write-Output\s+['"]restarted\.['"]`)
)

// sysprepShutdown reports whether text runs one of the AWS agents'
// Sysprep commands that shut the machine down: EC2Launch v2 "ec2launch
// sysprep" with --shutdown, --shutdown=true or -s; EC2Launch v1
// SysprepInstance.ps1 without -NoShutdown; EC2Config "ec2config.exe
// -sysprep"; "sysprep.exe ... /shutdown". agent names the form, line is
// the line of text that runs it.
func sysprepShutdown(text string) (agent, line string, ok bool) {
	for _, line := range strings.Split(text, "\n") {
		if agent := sysprepLine(line); agent != "" {
			return agent, strings.TrimSpace(line), true
		}
	}
	return "", "", false
}

// sysprepLine returns the agent whose Sysprep with shutdown line runs, or
// "".
func sysprepLine(line string) string {
	if m := ec2launchV2RE.FindStringSubmatch(line); m != nil {
		if hasFlag(m[1], "--shutdown", "--shutdown=true", "-s") {
			return "EC2Launch v2"
		}
		return ""
	}
	if m := ec2launchV1RE.FindStringSubmatch(line); m != nil {
		if !noShutdownRE.MatchString(m[1]) {
			return "EC2Launch v1"
		}
		return ""
	}
	if ec2configRE.MatchString(line) {
		return "EC2Config"
	}
	if m := sysprepExeRE.FindStringSubmatch(line); m != nil && hasFlag(m[1], "/shutdown") {
		return "sysprep.exe"
	}
	return ""
}

// powerEffect reports whether text restarts (shutdown /r, /g or
// Restart-Computer) or powers off (shutdown /s, /p or Stop-Computer) the
// machine. Options may start with "/" or "-".
func powerEffect(text string) effect {
	for _, line := range strings.Split(text, "\n") {
		if restartCmdRE.MatchString(line) {
			return effectRestart
		}
		if stopCmdRE.MatchString(line) {
			return effectPoweroff
		}
		m := shutdownRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		switch {
		case hasFlag(m[1], "/r", "-r", "/g", "-g"):
			return effectRestart
		case hasFlag(m[1], "/s", "-s", "/p", "-p"):
			return effectPoweroff
		}
	}
	return noEffect
}

// hasFlag reports whether one of the words of args (quotes and a trailing
// separator dropped) is one of flags, case-insensitively.
func hasFlag(args string, flags ...string) bool {
	for _, w := range strings.Fields(args) {
		w = strings.Trim(w, `"';)}`)
		for _, f := range flags {
			if strings.EqualFold(w, f) {
				return true
			}
		}
	}
	return false
}

// Script file references: -File <path>, &'<path>', & "<path>", and
// dot-sourcing . <path>.
var scriptRefREs = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(?:^|\s)-file\s+("[^"\r\n]+"|'[^'\r\n]+'|[^\s"';]+)`),
	regexp.MustCompile(`&\s*("[^"\r\n]+"|'[^'\r\n]+')`),
	regexp.MustCompile(`(?:^|[\s;{(])\.\s+("[^"\r\n]+"|'[^'\r\n]+'|[^\s"';{}()]+)`),
}

// scriptRef is a script path found at a position of a text.
type scriptRef struct {
	at   int
	path string
}

// scriptRefs returns the script paths text refers to, in order, once
// each. With commandLine, the program of each cmd.exe command (the first
// word, after "cmd /c" or "call") counts too: cmd runs a .bat or .cmd file
// named that way.
func scriptRefs(text string, commandLine bool) []string {
	var refs []scriptRef
	for _, re := range scriptRefREs {
		for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
			refs = append(refs, scriptRef{m[2], unquote(text[m[2]:m[3]])})
		}
	}
	if commandLine {
		refs = append(refs, programs(text)...)
	}
	// Order by position; insertion sort keeps it simple for a few refs.
	for i := 1; i < len(refs); i++ {
		for j := i; j > 0 && refs[j].at < refs[j-1].at; j-- {
			refs[j], refs[j-1] = refs[j-1], refs[j]
		}
	}
	var paths []string
	seen := map[string]bool{}
	for _, r := range refs {
		if r.path != "" && !seen[r.path] {
			seen[r.path] = true
			paths = append(paths, r.path)
		}
	}
	return paths
}

// programs returns the first word of each command of a cmd.exe line
// (commands separated by &, &&, || or |), skipping "cmd /c" and "call".
func programs(line string) []scriptRef {
	var out []scriptRef
	start := 0
	inQuote := false
	for i := 0; i <= len(line); i++ {
		if i < len(line) {
			if line[i] == '"' {
				inQuote = !inQuote
			}
			if inQuote || (line[i] != '&' && line[i] != '|') {
				continue
			}
		}
		args := scanArgs(line[:i], start)
		for len(args) > 0 && (strings.EqualFold(args[0].value, "cmd") || strings.EqualFold(args[0].value, "cmd.exe") ||
			strings.EqualFold(args[0].value, "/c") || strings.EqualFold(args[0].value, "call")) {
			args = args[1:]
		}
		if len(args) > 0 {
			out = append(out, scriptRef{args[0].span[0], args[0].value})
		}
		start = i + 1
	}
	return out
}

// unquote drops one pair of quotes around s.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
