package cloudinit

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// supportedKeys are the cloud-config keys the script honours.
var supportedKeys = []string{"package_update", "package_upgrade", "packages", "runcmd", "users", "write_files"}

var (
	fileKeys = []string{"append", "content", "defer", "encoding", "owner", "path", "permissions"}
	userKeys = []string{"gecos", "groups", "homedir", "lock_passwd", "no_create_home", "primary_group",
		"shell", "ssh_authorized_keys", "sudo", "system"}
)

// unsupportedTypes are the part types that cloud-init handles and the script does not.
var unsupportedTypes = map[string]bool{
	"text/x-include-url": true, "text/x-include-once-url": true, "text/cloud-config-archive": true,
	"text/cloud-config-jsonp": true, "text/part-handler": true, "text/jinja2": true,
	"text/x-shellscript-per-boot": true, "text/x-shellscript-per-instance": true, "text/x-shellscript-per-once": true,
}

// ret emits, inside a module, a message and the module's failure.
func (c *compiler) ret(format string, args ...any) {
	c.emit("say %s; return 1", q(fmt.Sprintf(format, args...)))
}

// words quotes each string as a shell word.
func (c *compiler) words(l []string) string {
	w := make([]string, len(l))
	for i, s := range l {
		w[i] = c.word(s)
	}
	return strings.Join(w, " ")
}

// writeFiles emits cloud-init's write_files module, or write_files_deferred
// for the entries with defer.
func (c *compiler) writeFiles(cfg *object, deferred bool) {
	v, ok := cfg.get("write_files")
	if !ok {
		return
	}
	name := "write_files"
	if deferred {
		name = "write_files_deferred"
	}
	list, isList := v.([]any)
	var files []any
	for _, f := range list {
		if o, ok := f.(*object); ok && isTrue(o.vals["defer"]) == deferred || !ok && !deferred {
			files = append(files, f)
		}
	}
	if isList && len(files) == 0 || !isList && deferred {
		return
	}
	c.module(name, func() {
		if !isList {
			c.ret("write_files is a %s, not a list", typeName(v))
		}
		for i, f := range files {
			if !c.writeFile(i+1, f) {
				return
			}
		}
	})
}

// writeFile emits the writing of one write_files entry; false means the
// module fails there.
func (c *compiler) writeFile(i int, f any) bool {
	o, ok := f.(*object)
	if !ok {
		c.ret("write_files entry %d is a %s, not a mapping", i, typeName(f))
		return false
	}
	for _, k := range o.keys {
		if !slices.Contains(fileKeys, k) {
			c.say("unsupported key %q of write_files entry %d ignored", k, i)
		}
	}
	if !truthy(o.vals["path"]) {
		c.say("write_files entry %d has no path: skipped", i)
		return true
	}
	vals := []any{o.vals["path"], o.vals["content"], o.vals["encoding"], "root:root"} // Debian's default_owner
	if v, ok := o.vals["owner"]; ok {
		vals[3] = v
	}
	var s [4]string
	for j, k := range []string{"path", "content", "encoding", "owner"} {
		if s[j], ok = vals[j].(string); !ok && truthy(vals[j]) {
			c.ret("write_files entry %d: %s is a %s, not a string", i, k, typeName(vals[j]))
			return false
		}
	}
	p := path.Clean("/" + s[0]) // cloud-init's cwd is /
	data, warning, err := decodeContent(s[1], s[2])
	if warning != "" {
		c.say("write_files %s: %s", p, warning)
	}
	if err != nil {
		c.ret("write_files %s: cannot decode the content: %v", p, err)
		return false
	}
	mode, warning := decodePerms(o.vals["permissions"])
	if warning != "" {
		c.say("write_files %s: %s", p, warning)
	}
	appendFlag := 0
	if isTrue(o.vals["append"]) {
		appendFlag = 1
	}
	chown := usergroup(s[3])
	c.say("write_files %s (mode %o, owner %s)", p, mode, chown)
	c.emit("writefile %s %o %s %d %s || return 1", c.word(p), mode, c.word(chown), appendFlag, b64(data))
	return true
}

// decodeContent decodes write_files content as cloud-init's
// extract_contents does, with a warning for an unknown encoding.
func decodeContent(content, encoding string) ([]byte, string, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "gz", "gzip":
		d, err := gunzip([]byte(content))
		return d, "", err
	case "gz+base64", "gzip+base64", "gz+b64", "gzip+b64":
		d, err := decodeBase64(content, false)
		if err == nil {
			d, err = gunzip(d)
		}
		return d, "", err
	case "b64", "base64":
		d, err := decodeBase64(content, false)
		return d, "", err
	case "", "text/plain":
		return []byte(content), "", nil
	}
	return []byte(content), fmt.Sprintf("unknown encoding type %s, assuming text/plain", encoding), nil
}

// decodePerms reads permissions as cloud-init's decode_perms does: numbers
// as they are, strings as octal; anything else means 0644, with a warning.
func decodePerms(v any) (mode int64, warning string) {
	var err error
	switch v := v.(type) {
	case nil:
		return 0o644, ""
	case bool:
		if v {
			mode = 1
		}
	case int:
		mode = int64(v)
	case float64:
		mode = int64(v)
	case string:
		s := strings.TrimSpace(v)
		s = strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
		mode, err = strconv.ParseInt(s, 8, 64)
	default:
		mode = -1
	}
	if err != nil || mode < 0 {
		return 0o644, fmt.Sprintf("undecodable permissions %v, using 644", pyStr(v))
	}
	return mode & 0o7777, ""
}

// usergroup turns "user:group" into chown's argument, dropping the empty,
// "-1" and "none" halves as cloud-init's extract_usergroup does.
func usergroup(owner string) string {
	u, g, _ := strings.Cut(owner, ":")
	clean := func(s string) string {
		s = strings.TrimSpace(s)
		if s == "-1" || strings.EqualFold(s, "none") {
			return ""
		}
		return s
	}
	if u, g = clean(u), clean(g); g != "" {
		return u + ":" + g
	}
	return u
}

// users emits cloud-init's users_groups module.
func (c *compiler) users(cfg *object) {
	v, ok := cfg.get("users")
	if !ok {
		return
	}
	users, err := normalizeUsers(v)
	if users == nil && err == nil {
		c.say("users is a %s, not a list or a string: ignored", typeName(v))
	}
	if users != nil && len(users.keys) == 0 || users == nil && err == nil {
		return
	}
	c.module("users_groups", func() {
		if err != nil {
			c.ret("%v", err)
			return
		}
		for _, name := range users.keys {
			if name == "default" {
				c.say("users: the default user is left as the image has it")
			} else if !c.user(name, users.vals[name].(*object)) {
				return
			}
		}
	})
}

// normalizeUsers lists the users as cloud-init's _normalize_users does:
// names from strings (comma-separated) and lists; settings from mappings (a
// second mapping for a name adds only the keys the first lacks). It returns
// nil and no error for a value that is not a list or a string, such as the
// mapping form that cloud-init deprecated in 22.2.
func normalizeUsers(v any) (*object, error) {
	var entries []any
	switch v := v.(type) {
	case []any:
		entries = v
	case string:
		names := splitNames(v)
		slices.Sort(names)
		entries = append(entries, strings.Join(slices.Compact(names), ","))
	default:
		return nil, nil
	}
	users := newObject()
	for _, e := range entries {
		switch e := e.(type) {
		case string, []any:
			names, ok := e.([]any)
			if !ok {
				for _, n := range splitNames(e.(string)) {
					names = append(names, n)
				}
			}
			for _, n := range names {
				if _, ok := users.get(pyStr(n)); !ok && pyStr(n) != "" {
					users.set(pyStr(n), newObject())
				}
			}
		case *object:
			name := "default"
			if n, ok := e.get("name"); ok {
				name = pyStr(n)
			}
			u, ok := users.vals[name].(*object)
			if !ok {
				u = newObject()
			}
			for _, k := range e.keys {
				nk := strings.TrimSpace(strings.ReplaceAll(k, "-", "_"))
				if _, ok := u.get(nk); !ok && k != "name" && nk != "" {
					u.set(nk, e.vals[k])
				}
			}
			users.set(name, u)
		default:
			return nil, fmt.Errorf("user config must be dictionary/list or string types only and not %s", typeName(e))
		}
	}
	return users, nil
}

// splitNames splits a comma-separated list, dropping blank names.
func splitNames(s string) []string {
	var names []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// user emits cloud-init's create_user for one user; false means the
// module fails there.
func (c *compiler) user(name string, u *object) bool {
	for _, k := range u.keys {
		if !slices.Contains(userKeys, k) {
			c.say("unsupported key %q of user %s ignored", k, name)
		}
	}
	noHome := truthy(u.vals["no_create_home"]) || truthy(u.vals["system"])
	if noHome && truthy(u.vals["ssh_authorized_keys"]) {
		c.ret("not creating user %s: ssh_authorized_keys cannot be given with no_create_home or system", name)
		return false
	}
	str := func(k string) string { s, _ := u.vals[k].(string); return s }
	var groups []string
	switch g := u.vals["groups"].(type) {
	case string:
		groups = splitNames(g)
	case []any:
		for _, e := range g {
			if e := strings.TrimSpace(pyStr(e)); e != "" {
				groups = append(groups, e)
			}
		}
	case *object:
		groups = g.keys
	default:
		if truthy(g) {
			c.ret("groups of user %s is a %s, not a string or a list", name, typeName(g))
			return false
		}
	}
	var args []string
	for _, o := range []struct{ flag, value string }{ // in the order of cloud-init's sorted keys
		{"--comment", str("gecos")},
		{"--groups", strings.Join(groups, ",")},
		{"--home", str("homedir")},
		{"--gid", str("primary_group")},
		{"--shell", str("shell")},
	} {
		if o.value != "" {
			args = append(args, o.flag, o.value)
		}
	}
	if truthy(u.vals["system"]) {
		args = append(args, "--system")
	}
	if noHome {
		args = append(args, "-M")
	} else {
		args = append(args, "-m")
	}
	if len(groups) > 0 && str("primary_group") != "" {
		groups = append(groups, str("primary_group"))
	}
	c.say("users_groups: user %s", name)
	c.emit("if mustadd %s; then", c.word(name))
	for _, g := range groups {
		c.emit("\tmkgroup %s", c.word(g))
	}
	c.emit("\tuseradd %s -- %s || return 1", c.words(args), c.word(name))
	c.emit("fi")
	if v, ok := u.vals["lock_passwd"]; !ok || truthy(v) {
		c.emit("sys passwd -l -- %s || return 1", c.word(name))
	}
	if v := u.vals["sudo"]; truthy(v) {
		var rules []string
		switch v := v.(type) {
		case string:
			rules = []string{v}
		case []any:
			for _, r := range v {
				rules = append(rules, pyStr(r))
			}
		default:
			c.ret("cannot create sudoers rules for user %s from a %s", name, typeName(v))
			return false
		}
		block := "\n# User rules for " + name
		for _, r := range rules {
			block += "\n" + name + " " + r
		}
		c.emit("sudorules %s || return 1", c.word(block))
	}
	if v, ok := u.vals["ssh_authorized_keys"]; ok {
		var keys []any
		switch v := v.(type) {
		case string:
			keys = []any{v}
		case []any:
			keys = v
		case *object:
			for _, k := range v.keys {
				keys = append(keys, v.vals[k])
			}
		case nil:
		default:
			c.say("invalid type %s for ssh_authorized_keys of user %s: no keys", typeName(v), name)
		}
		var lines []string
		for _, k := range keys {
			s, _ := k.(string)
			for _, l := range strings.Split(s, "\n") {
				if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") && !slices.Contains(lines, l) {
					lines = append(lines, l)
				}
			}
		}
		home := str("homedir")
		if home == "" {
			home = "/home/" + name
		}
		c.emit("authkeys %s %s %s || return 1", c.word(name), c.word(home), c.words(lines))
	}
	return true
}

// packages emits cloud-init's package_update_upgrade_install module.
func (c *compiler) packages(cfg *object) {
	update, upgrade := isTrue(cfg.vals["package_update"]), isTrue(cfg.vals["package_upgrade"])
	var pkgs []string
	bad := ""
	v, listed := cfg.get("packages")
	list, ok := v.([]any)
	if !ok && v != nil {
		list = []any{pyStr(v)}
	}
	for _, p := range list {
		switch p := p.(type) {
		case string:
			pkgs = append(pkgs, p)
		case []any:
			if len(p) < 1 || len(p) > 2 {
				bad = "invalid package & version tuple"
			} else if len(p) == 2 && truthy(p[1]) {
				pkgs = append(pkgs, pyStr(p[0])+"="+pyStr(p[1]))
			} else {
				pkgs = append(pkgs, pyStr(p[0]))
			}
		case *object:
			c.say("unsupported package manager entry in packages ignored")
		default:
			bad = "invalid package type " + typeName(p)
		}
	}
	listed = listed && (len(pkgs) > 0 || bad != "")
	if !update && !upgrade && !listed {
		return
	}
	c.module("package_update_upgrade_install", func() {
		c.emit("e=0")
		c.emit("aptget update || e=1")
		if upgrade {
			c.emit("aptget dist-upgrade || e=1")
		}
		if bad != "" {
			c.emit("say %s; e=1", q("cannot install packages: "+bad))
		} else if len(pkgs) > 0 {
			c.emit("aptget install %s || e=1", c.words(pkgs))
		}
		c.emit("return $e")
	})
}

// runcmd emits cloud-init's runcmd module, which saves the commands as a
// script, and returns the script when the module succeeds.
func (c *compiler) runcmd(cfg *object) ([]byte, bool) {
	v, ok := cfg.get("runcmd")
	if !ok {
		return nil, false
	}
	list, ok := v.([]any)
	problem := ""
	if !ok {
		problem = "runcmd is a " + typeName(v) + ", not a list"
	}
	script := "#!/bin/sh\n"
	for _, e := range list {
		switch e := e.(type) {
		case string:
			script += e + "\n"
		case []any:
			args := make([]string, len(e))
			for i, a := range e { // always quoted, as cloud-init's shellify does
				args[i] = "'" + strings.ReplaceAll(pyStr(a), "'", `'\''`) + "'"
			}
			script += strings.Join(args, " ") + "\n"
		case nil:
		default:
			problem = "unable to shellify type " + typeName(e)
		}
	}
	c.module("runcmd", func() {
		if problem != "" {
			c.ret("failed to shellify runcmd: %s", problem)
			return
		}
		c.emit("writefile %s 700 '' 0 %s || return 1", q(scriptDir+"/runcmd"), b64([]byte(script)))
	})
	return []byte(script), problem == ""
}
