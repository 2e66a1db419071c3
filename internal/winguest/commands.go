package winguest

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"
)

// progressPrefix is what masterzen/winrm's Powershell puts before every
// encoded script; it is dropped from recorded scripts.
const progressPrefix = "$ProgressPreference = 'SilentlyContinue';"

// decodeEncoded returns the script of a "powershell[.exe] ...
// -EncodedCommand <base64 of UTF-16LE>" command line (the parameter may
// be abbreviated: -e, -ec, -en, -enc, ...).
func decodeEncoded(line string) (string, bool) {
	args := scanArgs(line, 0)
	ps := false
	for i, a := range args {
		base := strings.ToLower(a.value[strings.LastIndexAny(a.value, `/\`)+1:])
		switch {
		case base == "powershell" || base == "powershell.exe" || base == "pwsh" || base == "pwsh.exe":
			ps = true
		case ps && isEncodedFlag(a.value) && i+1 < len(args):
			return decodeUTF16(args[i+1].value)
		}
	}
	return "", false
}

func isEncodedFlag(s string) bool {
	if !strings.HasPrefix(s, "-") && !strings.HasPrefix(s, "/") {
		return false
	}
	s = strings.ToLower(s[1:])
	return s == "e" || s == "ec" || len(s) >= 2 && strings.HasPrefix("encodedcommand", s)
}

func decodeUTF16(b64 string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw)%2 != 0 {
		return "", false
	}
	units := make([]uint16, len(raw)/2)
	for i := range units {
		units[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	return string(utf16.Decode(units)), true
}

// echoCmd is a cmd.exe "echo <text>", maybe redirected to a file.
type echoCmd struct {
	text     string // what echo prints, without the line end
	target   string // the file of a redirection, "" without
	appendTo bool   // >> rather than >
}

// parseEcho reads an echo command line. As in cmd.exe, the text is
// everything between "echo " and the redirection, spaces included.
func parseEcho(line string) (echoCmd, bool) {
	s := strings.TrimLeft(line, " \t@")
	if len(s) < 5 || !strings.EqualFold(s[:4], "echo") || (s[4] != ' ' && s[4] != '\t') {
		return echoCmd{}, false
	}
	rest := s[5:]
	inQuote := false
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '"':
			inQuote = !inQuote
		case '&', '|':
			if !inQuote {
				return echoCmd{}, false // more than an echo
			}
		case '>':
			if inQuote {
				continue
			}
			e := echoCmd{text: rest[:i]}
			target := rest[i+1:]
			if strings.HasPrefix(target, ">") {
				e.appendTo, target = true, target[1:]
			}
			e.target = unquote(strings.TrimSpace(target))
			return e, e.target != ""
		}
	}
	return echoCmd{text: rest}, true
}
