package cloudinit

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Script compiles EC2 user data (the raw bytes, after the API's base64 is removed) into a
// POSIX sh script that a Debian guest runs once per instance, as root, at first boot.
//
// Problems in the user data do not make an error: the script reports them
// as cloud-init would and exits 1 where cloud-init's boot would end in
// error. The error is for what no shell word can hold: a NUL byte in a
// path, a user name or another argument.
func Script(userData []byte) (string, error) {
	c := &compiler{}
	c.compile(split(userData))
	if c.b.Len() == 0 {
		return "#!/bin/sh\n# Empty EC2 user data: nothing to do.\nexit 0\n", c.err
	}
	return prelude + c.b.String() + epilogue, c.err
}

// compiler writes the body of the script.
type compiler struct {
	b   strings.Builder
	in  string // indentation: a tab inside a module
	err error
}

// compile emits the steps in the order of cloud-init's boot: user data is
// consumed (boothooks run, scripts are saved, cloud-configs merge), then the
// modules run.
func (c *compiler) compile(s *splitter) {
	if s.fatal != "" {
		c.emit("fail %s", q(s.fatal))
		return
	}
	cfg := newObject()
	scripts := map[string][]byte{}
	for _, p := range s.parts {
		switch p.typ {
		case "text/x-shellscript":
			scripts[p.name] = dos2unix(p.data)
			c.say("%s: user script saved", p.name)
			c.emit("writefile %s 700 '' 0 %s || failed=1", c.word(scriptDir+"/"+p.name), b64(scripts[p.name]))
		case "text/cloud-boothook":
			data := strings.TrimLeft(strings.TrimPrefix(string(dos2unix(p.data)), "#cloud-boothook"), " \t\n\r\v\f")
			c.say("%s: boothook", p.name)
			c.emit("writefile %s 700 '' 0 %s || failed=1", c.word(boothookDir+"/"+p.name), b64([]byte(data)))
			if strings.HasPrefix(data, "#!") {
				c.emit("run %s %s || failed=1", q(boothookDir), c.word(p.name))
			} else {
				c.emit("fail %s", q(p.name+" failed: it does not start with #!"))
			}
		case "text/cloud-config":
			c.mergeConfig(cfg, p)
		default:
			if unsupportedTypes[p.typ] {
				c.say("unsupported part type %q ignored", p.typ)
			} else if len(p.data) > 0 {
				first, _, _ := strings.Cut(string(p.data[:min(len(p.data), 24)]), "\n")
				c.say("%s: user data of type %s not recognised (%q): ignored", p.name, p.typ, first+"...")
			}
		}
	}
	for _, problem := range s.problems {
		c.emit("fail %s", q(problem))
	}
	keys := slices.Clone(cfg.keys)
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(supportedKeys, k) {
			c.say("unsupported key %q ignored", k)
		}
	}
	c.writeFiles(cfg, false)
	c.users(cfg)
	if runcmd, ok := c.runcmd(cfg); ok {
		scripts["runcmd"] = runcmd
	}
	c.packages(cfg)
	c.writeFiles(cfg, true)
	if len(scripts) > 0 {
		c.module("scripts_user", func() {
			c.emit("e=0")
			for _, name := range slices.Sorted(maps.Keys(scripts)) {
				if strings.HasPrefix(string(scripts[name]), "#!") {
					c.emit("run %s %s || e=1", q(scriptDir), c.word(name))
				} else {
					c.emit("say %s; e=1", q(name+" failed: it does not start with #!"))
				}
			}
			c.emit("return $e")
		})
	}
}

// mergeConfig merges one cloud-config part into cfg as cloud-init's default
// merger does: a later top-level key replaces the earlier value.
func (c *compiler) mergeConfig(cfg *object, p part) {
	part, err := parseConfig(p.data)
	switch {
	case err != nil:
		c.emit("fail %s", q(fmt.Sprintf("%s: failed loading cloud-config YAML: %v", p.name, err)))
		return
	case part == nil:
		c.say("%s: empty cloud-config ignored", p.name)
		return
	}
	c.say("%s: cloud-config", p.name)
	if p.merge != "" {
		c.say("unsupported Merge-Type header ignored (default merging used)")
	}
	for _, k := range part.keys {
		if k == "merge_how" || k == "merge_type" {
			c.say("unsupported key %q ignored (default merging used)", k)
			continue
		}
		cfg.set(k, part.vals[k])
	}
}

// module emits one cloud-init module as a shell function that returns 1
// on the first failure, and its call.
func (c *compiler) module(name string, body func()) {
	c.emit("m() {")
	c.in = "\t"
	c.emit("say %s", q("module "+name))
	body()
	c.in = ""
	c.emit("}")
	c.emit("m || fail %s", q("module "+name+" failed"))
}

func (c *compiler) emit(format string, args ...any) {
	fmt.Fprintf(&c.b, c.in+format+"\n", args...)
}

// say emits a line that prints a message.
func (c *compiler) say(format string, args ...any) {
	c.emit("say %s", q(fmt.Sprintf(format, args...)))
}

// word quotes s as one shell word, noting an error when it cannot be one.
func (c *compiler) word(s string) string {
	if strings.IndexByte(s, 0) >= 0 && c.err == nil {
		c.err = fmt.Errorf("user data puts a NUL byte in %q, which a shell word cannot hold", s)
	}
	return q(s)
}

// q quotes s as one sh word: bare when it holds only characters that sh
// takes literally, else in single quotes. NUL bytes, which sh cannot hold,
// become \0.
func q(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-") == "" {
		return s
	}
	s = strings.ReplaceAll(s, "\x00", `\0`)
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// b64 returns data in base64 as a quoted shell word, in lines of 76.
func b64(data []byte) string {
	s := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	return "'" + b.String() + s + "'"
}

const (
	scriptDir   = "/var/lib/cloud/instance/scripts"
	boothookDir = "/var/lib/cloud/instance/boothooks"
)

// prelude starts every script that does something: the shell helpers.
const prelude = `#!/bin/sh
# EC2 user data compiled by imgbuild (internal/localcloud/cloudinit): a
# subset of cloud-init, run once per instance, as root, at first boot. Paths
# are under $IMGBUILD_ROOT; when it is set (tests on the host), commands that
# act on the real system are skipped.
set -u
R="${IMGBUILD_ROOT:-}"
failed=0
say() { printf 'imgbuild cloud-init: %s\n' "$*"; }
fail() { say "$*"; failed=1; }
# sys CMD...: runs a command that acts on the real system.
sys() { if [ -n "$R" ]; then say "skipped on the host: $*"; else "$@"; fi; }
# mkparents OWNER DIR: makes DIR and its missing parents, giving the new ones to OWNER.
mkparents() {
	[ -d "$R$2" ] && return 0
	[ "$2" = / ] || mkparents "$1" "$(dirname -- "$2")" || return 1
	mkdir -- "$R$2" || return 1
	[ -z "$1" ] || sys chown -- "$1" "$R$2"
}
# writefile PATH MODE OWNER APPEND BASE64: writes (APPEND=1: appends) the
# decoded BASE64 to PATH, with MODE (octal) and OWNER (none when empty).
writefile() {
	mkparents "$3" "$(dirname -- "$1")" || return 1
	if [ "$4" = 1 ]; then printf '%s' "$5" | base64 -d >>"$R$1"; else printf '%s' "$5" | base64 -d >"$R$1"; fi || return 1
	chmod "$2" "$R$1" || return 1
	[ -z "$3" ] || { sys chown -- "$3" "$R$1" && chmod "$2" "$R$1"; }
}
# run DIR NAME: runs the script DIR/NAME.
run() {
	say "running $2"
	"$R$1/$2" </dev/null || { s=$?; say "$2 failed (exit status $s)"; return 1; }
}
# mustadd NAME: true when the user NAME is to be created.
mustadd() {
	if [ -n "$R" ]; then say "skipped on the host: useradd $1"; return 1; fi
	getent passwd "$1" >/dev/null || return 0
	say "user $1 already exists: not created"; return 1
}
mkgroup() { getent group "$1" >/dev/null || groupadd -- "$1" || say "failed to create group $1"; }
# sudorules RULES: adds the lines RULES to /etc/sudoers.d/90-cloud-init-users.
sudorules() {
	s="$R/etc/sudoers" f="$R/etc/sudoers.d/90-cloud-init-users"
	if [ ! -e "$s" ]; then
		mkdir -p -- "$R/etc" && printf '# See sudoers(5) for more information on "#include" directives:\n\n# Added by imgbuild cloud-init\n#includedir /etc/sudoers.d\n' >"$s" && chmod 440 "$s"
	elif ! grep -Eq '^[[:space:]]*[#@]includedir[[:space:]]+/etc/sudoers\.d/?[[:space:]]*$' "$s"; then
		printf '\n# Added by imgbuild cloud-init\n#includedir /etc/sudoers.d\n' >>"$s"
	fi || return 1
	mkdir -p -- "$R/etc/sudoers.d" && chmod 750 "$R/etc/sudoers.d" || return 1
	if [ ! -e "$f" ]; then
		printf '# Created by imgbuild cloud-init\n%s\n' "$1" >"$f" && chmod 440 "$f"
	else
		case "$(cat -- "$f")" in *"$1"*) ;; *) printf '%s\n' "$1" >>"$f" ;; esac
	fi
}
# authkeys USER HOME KEY...: adds the missing KEYs to the user's
# authorized_keys (HOME: the home directory when the system has none).
authkeys() {
	u=$1 h=$2; shift 2
	[ -n "$R" ] || h=$(getent passwd "$u" | cut -d: -f6)
	[ -n "$h" ] || { say "no home directory for user $u"; return 1; }
	d="$R$h/.ssh" f="$R$h/.ssh/authorized_keys"
	if [ ! -d "$d" ]; then mkdir -p -- "$d" && chmod 700 "$d" && sys chown -- "$u:" "$d" || return 1; fi
	if [ ! -f "$f" ]; then : >"$f" && chmod 600 "$f" && sys chown -- "$u:" "$f" || return 1; fi
	[ ! -s "$f" ] || [ -z "$(tail -c 1 -- "$f")" ] || echo >>"$f" || return 1
	for k; do grep -qxF -e "$k" -- "$f" || printf '%s\n' "$k" >>"$f" || return 1; done
}
aptget() {
	sys env DEBIAN_FRONTEND=noninteractive apt-get --option=Dpkg::Options::=--force-confold \
		--option=Dpkg::options::=--force-unsafe-io --assume-yes --quiet "$@" </dev/null
}
`

// epilogue ends every script that does something.
const epilogue = `if [ "$failed" != 0 ]; then say 'finished with errors'; exit 1; fi
exit 0
`
