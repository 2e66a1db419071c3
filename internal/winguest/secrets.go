package winguest

import (
	"regexp"
	"strings"
)

// masked replaces a secret in recorded text.
const masked = "********"

// netUserRE finds "net user" (also net.exe) followed by its arguments.
var netUserRE = regexp.MustCompile(`(?i)\bnet(?:\.exe)?[ \t]+user[ \t]+`)

// passwordVarRE finds a PowerShell assignment of a quoted string to a
// variable whose name contains "password" ($password of the elevated tool
// script, among others).
var passwordVarRE = regexp.MustCompile(`(?im)(\$[a-z0-9_]*password[a-z0-9_]*[ \t]*=[ \t]*)` +
	`(?:'(?:[^']|'')*'|"(?:[^"` + "`" + `]|` + "`" + `.)*")`) // '' and ` escape quotes

// netUser is one "net user <name> <password> [options]" command.
type netUser struct {
	name, password string
	add            bool   // /add: create the user if missing
	span           [2]int // where the password argument is in the text
}

// findNetUsers returns the "net user" commands in text that set a
// password: the password argument is not an option ("/active:yes") or
// "*" (a prompt). Arguments may be quoted with "..." or '...' (” is a
// quote inside '...', as in PowerShell).
func findNetUsers(text string) []netUser {
	var found []netUser
	for _, loc := range netUserRE.FindAllStringIndex(text, -1) {
		args := scanArgs(text, loc[1])
		if len(args) < 2 {
			continue
		}
		pw := args[1]
		if !pw.quoted && (strings.HasPrefix(pw.value, "/") || pw.value == "*") {
			continue
		}
		nu := netUser{name: args[0].value, password: pw.value, span: pw.span}
		for _, a := range args[2:] {
			if strings.EqualFold(a.value, "/add") {
				nu.add = true
			}
		}
		found = append(found, nu)
	}
	return found
}

// arg is one command argument with its place in the text.
type arg struct {
	value  string
	quoted bool
	span   [2]int
}

// scanArgs reads arguments from text[i:] up to the end of the line or a
// command separator (; & |) outside quotes.
func scanArgs(text string, i int) []arg {
	var args []arg
	for {
		for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
			i++
		}
		if i >= len(text) || strings.IndexByte("\r\n;&|", text[i]) >= 0 {
			return args
		}
		start := i
		var a arg
		switch q := text[i]; q {
		case '"', '\'':
			var b strings.Builder
			for i++; i < len(text) && text[i] != '\n'; i++ {
				if text[i] != q {
					b.WriteByte(text[i])
					continue
				}
				if q == '\'' && i+1 < len(text) && text[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				break
			}
			i++ // the closing quote
			a = arg{value: b.String(), quoted: true}
		default:
			for i < len(text) && strings.IndexByte(" \t\r\n;&|", text[i]) < 0 {
				i++
			}
			a = arg{value: text[start:i]}
		}
		a.span = [2]int{start, min(i, len(text))}
		args = append(args, a)
	}
}

// maskSecrets hides the passwords of "net user" commands and of
// $...password... = '...' (or "...") assignments in text recorded in the
// guest log.
func maskSecrets(text string) string {
	nus := findNetUsers(text)
	for i := len(nus) - 1; i >= 0; i-- {
		s := nus[i].span
		text = text[:s[0]] + masked + text[s[1]:]
	}
	return passwordVarRE.ReplaceAllString(text, "${1}'"+masked+"'")
}
