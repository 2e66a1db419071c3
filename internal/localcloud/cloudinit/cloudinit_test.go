package cloudinit

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func gz(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.String()
}

func b64s(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// mimeDoc builds multi-part user data with LF line ends, as cloud-init's
// make-mime writes it; each part is its headers, a blank line and its body.
func mimeDoc(parts ...string) string {
	s := "Content-Type: multipart/mixed; boundary=\"===XX==\"\nMIME-Version: 1.0\n\npreamble\n"
	for _, p := range parts {
		s += "--===XX==\n" + p + "\n"
	}
	return s + "--===XX==--\n"
}

// run compiles user data and runs the script with /bin/sh under a new
// IMGBUILD_ROOT, returning the root, the output and the exit status.
func run(t *testing.T, userData string) (root, out string, status int) {
	t.Helper()
	s, err := Script([]byte(userData))
	if err != nil {
		t.Fatalf("Script: %v", err)
	}
	root = t.TempDir()
	file := filepath.Join(t.TempDir(), "user-data.sh")
	if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", file)
	cmd.Env = append(os.Environ(), "IMGBUILD_ROOT="+root)
	b, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		status = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return root, string(b), status
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestSplit(t *testing.T) {
	type p struct{ typ, name, data string }
	tests := []struct {
		name     string
		userData string
		want     []p
		fatal    bool
	}{
		{"empty", "", []p{{"text/x-not-multipart", "part-001", ""}}, false},
		{"script", "#!/bin/sh\necho\n", []p{{"text/x-shellscript", "part-001", "#!/bin/sh\necho\n"}}, false},
		{"cloud-config after blanks, any case", "\n  #Cloud-Config\na: 1\n", []p{{"text/cloud-config", "part-001", "\n  #Cloud-Config\na: 1\n"}}, false},
		{"boothook", "#cloud-boothook\n#!/bin/sh\n", []p{{"text/cloud-boothook", "part-001", "#cloud-boothook\n#!/bin/sh\n"}}, false},
		{"jinja", "## template: jinja\n#cloud-config\n", []p{{"text/jinja2", "part-001", "## template: jinja\n#cloud-config\n"}}, false},
		{"include is not attached", "#include\nhttp://x\n", []p{{"text/x-include-url", "", "#include\nhttp://x\n"}}, false},
		{"archive", "#cloud-config-archive\n", []p{{"text/cloud-config-archive", "", "#cloud-config-archive\n"}}, false},
		{"unknown", "hello\n", []p{{"text/x-not-multipart", "part-001", "hello\n"}}, false},
		{"gzip", gz("#!/bin/sh\n"), []p{{"text/x-shellscript", "part-001", "#!/bin/sh\n"}}, false},
		{"MIME without MIME-Version is not MIME",
			"Content-Type: multipart/mixed; boundary=X\n\n--X\n\n#!/bin/sh\n--X--\n",
			[]p{{"text/x-not-multipart", "part-001", "Content-Type: multipart/mixed; boundary=X\n\n--X\n\n#!/bin/sh\n--X--\n"}}, false},
		{"MIME parts", mimeDoc(
			"Content-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"dir/a b.sh\"\n\n#!/bin/sh\r\necho a\r\n",
			"Content-Type: text/cloud-config\nContent-Transfer-Encoding: base64\nMerge-Type: list(append)\n\n"+b64s("#cloud-config\nruncmd: [x]\n"),
			"Content-Type: application/x-gzip\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"hook\"\n\n"+b64s(gz("#cloud-boothook\n#!/bin/sh\n")),
			"Content-Type: text/x-include-url\n\nhttp://example.com/x\n",
			"Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n#!/bin/sh\necho a=3Db\n",
			"Content-Type: text/x-shellscript\n\n#cloud-config\nb: 2\n",
			"Content-Type: text/part-handler\n\ndef list_types(): pass\n",
		), []p{
			{"text/x-shellscript", "dir_ab.sh", "#!/bin/sh\r\necho a\r\n"},
			{"text/cloud-config", "part-002", "#cloud-config\nruncmd: [x]\n"},
			{"text/cloud-boothook", "hook", "#cloud-boothook\n#!/bin/sh\n"},
			{"text/x-include-url", "", "http://example.com/x\n"},
			{"text/x-shellscript", "part-004", "#!/bin/sh\necho a=b\n"},
			{"text/cloud-config", "part-005", "#cloud-config\nb: 2\n"},
			{"text/part-handler", "part-006", "def list_types(): pass\n"},
		}, false},
		{"gzipped MIME", gz(mimeDoc("Content-Type: text/x-shellscript\n\n#!/bin/sh\n")), []p{{"text/x-shellscript", "part-001", "#!/bin/sh\n"}}, false},
		{"gzip part that does not decompress", mimeDoc("Content-Type: application/x-gzip\n\nnot gzip"), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := split([]byte(tt.userData))
			var got []p
			for _, x := range s.parts {
				got = append(got, p{x.typ, x.name, string(x.data)})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parts\n%q\nwant\n%q", got, tt.want)
			}
			if (s.fatal != "") != tt.fatal || len(s.problems) > 0 {
				t.Errorf("fatal %q, problems %q", s.fatal, s.problems)
			}
		})
	}
	if s := split([]byte(mimeDoc("Content-Type: text/x-shellscript\n\n#!/bin/sh\n"))); s.parts[0].merge != "" {
		t.Errorf("merge header %q without one", s.parts[0].merge)
	}
	if s := split([]byte(mimeDoc("Merge-Type: dict(recurse_array)\n\n#cloud-config\n"))); s.parts[0].merge != "dict(recurse_array)" {
		t.Errorf("merge header %q, want dict(recurse_array)", s.parts[0].merge)
	}
}

func TestParseConfig(t *testing.T) {
	cfg, err := parseConfig([]byte("#cloud-config\na: yes\nb: off\nc: 'yes'\nd: 0644\ne: ~\nf: &x {k: 1}\ng:\n  j: [1, 2.5, s]\n  f: *x\nh: !!binary aGk=\n"))
	if err != nil {
		t.Fatal(err)
	}
	f, g := newObject(), newObject()
	f.set("k", 1)
	g.set("j", []any{1, 2.5, "s"})
	g.set("f", f)
	want := map[string]any{"a": true, "b": false, "c": "yes", "d": 0o644, "e": nil, "g": g, "h": "hi"}
	for k, w := range want {
		if v := cfg.vals[k]; !reflect.DeepEqual(v, w) {
			t.Errorf("%s = %#v, want %#v", k, v, w)
		}
	}
	if want := []string{"a", "b", "c", "d", "e", "f", "g", "h"}; !reflect.DeepEqual(cfg.keys, want) {
		t.Errorf("keys %q, want %q", cfg.keys, want)
	}
	for _, bad := range []string{"a: [1\n", "- a\n", "a: 1\n---\nb: 2\n", "a: &a [*a, *a]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"} {
		if cfg, err := parseConfig([]byte(bad)); err == nil {
			t.Errorf("parseConfig(%q) = %v, want an error", bad, cfg)
		}
	}
	if cfg, err := parseConfig([]byte("#cloud-config\n")); cfg != nil || err != nil {
		t.Errorf("empty document: %v, %v", cfg, err)
	}
}

func TestDecodeContent(t *testing.T) {
	text := "line 1\n\x00\xff'\"$x\n"
	for _, tt := range []struct{ content, encoding, warning string }{
		{text, "", ""}, {text, "text/plain", ""}, {text, "text", "unknown encoding type text, assuming text/plain"},
		{b64s(text), "b64", ""}, {b64s(text)[:8] + "\n " + b64s(text)[8:], "base64", ""},
		{gz(text), "gz", ""}, {gz(text), "GZIP", ""},
		{b64s(gz(text)), "gz+b64", ""}, {b64s(gz(text)), "gz+base64", ""}, {b64s(gz(text)), "gzip+b64", ""}, {b64s(gz(text)), " gzip+base64", ""},
	} {
		got, warning, err := decodeContent(tt.content, tt.encoding)
		if string(got) != text || warning != tt.warning || err != nil {
			t.Errorf("decodeContent(%q, %q) = %q, %q, %v", tt.content, tt.encoding, got, warning, err)
		}
	}
	for _, tt := range []struct{ content, encoding string }{{"YWI", "b64"}, {"YW=", "b64"}, {"Y", "b64"}, {"hi", "gz"}, {b64s("hi"), "gz+b64"}} {
		if got, _, err := decodeContent(tt.content, tt.encoding); err == nil {
			t.Errorf("decodeContent(%q, %q) = %q, want an error", tt.content, tt.encoding, got)
		}
	}
}

func TestDecodePerms(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want int64
		warn bool
	}{
		{nil, 0o644, false}, {"0600", 0o600, false}, {"755", 0o755, false}, {"0o4755", 0o4755, false},
		{0o640, 0o640, false}, {420, 0o644, false}, {644, 0o1204, false}, {1.9, 1, false}, {true, 1, false},
		{"rw-r--r--", 0o644, true}, {"0999", 0o644, true}, {[]any{1}, 0o644, true}, {-1, 0o644, true},
	} {
		got, warning := decodePerms(tt.in)
		if got != tt.want || (warning != "") != tt.warn {
			t.Errorf("decodePerms(%#v) = %o, %q; want %o", tt.in, got, warning, tt.want)
		}
	}
}

func TestNormalizeUsers(t *testing.T) {
	cfg, err := parseConfig([]byte(`
a: "bob, alice,bob"
b: [default, "x,y", {name: x, shell: /bin/sh, lock-passwd: false}, {name: x, shell: /bin/zsh, gecos: X}, {gecos: D}]
c: {u: true}
d: [1]
`))
	if err != nil {
		t.Fatal(err)
	}
	names := func(v any) []string {
		users, err := normalizeUsers(v)
		if err != nil || users == nil {
			return []string{fmt.Sprint(err)}
		}
		return users.keys
	}
	for _, tt := range []struct {
		key  string
		want []string
	}{
		{"a", []string{"alice", "bob"}},
		{"b", []string{"default", "x", "y"}},
		{"c", []string{"<nil>"}},
		{"d", []string{"user config must be dictionary/list or string types only and not int"}},
	} {
		if got := names(cfg.vals[tt.key]); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("users %s: %q, want %q", tt.key, got, tt.want)
		}
	}
	users, _ := normalizeUsers(cfg.vals["b"])
	x := users.vals["x"].(*object)
	if x.vals["shell"] != "/bin/sh" || x.vals["gecos"] != "X" || x.vals["lock_passwd"] != false || users.vals["default"].(*object).vals["gecos"] != "D" {
		t.Errorf("merged user settings: x %v, default %v", x.vals, users.vals["default"])
	}
}

// TestScriptCommands checks the commands compiled for what needs root and
// cannot run on the host.
func TestScriptCommands(t *testing.T) {
	for _, tt := range []struct {
		name, config string
		want, not    []string
	}{
		{"useradd", `users: [{name: alice, gecos: Alice A, groups: [wheel, " docker"], shell: /bin/bash, primary_group: staff}]`,
			[]string{"mkgroup wheel\n", "mkgroup docker\n", "mkgroup staff\n",
				"useradd --comment 'Alice A' --groups wheel,docker --gid staff --shell /bin/bash -m -- alice || return 1",
				"sys passwd -l -- alice || return 1"}, []string{"sudorules", "authkeys"}},
		{"system user", `users: [{name: svc, system: true, lock_passwd: false, sudo: false}, {name: x, no_create_home: yes, sudo: ~}]`,
			[]string{"useradd --system -M -- svc", "useradd -M -- x", "passwd -l -- x"}, []string{"passwd -l -- svc", "sudorules", "mkgroup"}},
		{"keys without home", `users: [{name: svc, system: true, ssh_authorized_keys: [k]}]`,
			[]string{"not creating user svc"}, []string{"useradd"}},
		{"sudo of a wrong type", `users: [{name: a, sudo: 1}, b]`, []string{"cannot create sudoers rules for user a from a int"}, []string{"-- b"}},
		{"update only", "package_update: true", []string{"aptget update || e=1\n\treturn $e"}, []string{"aptget install", "dist-upgrade"}},
		{"upgrade", "package_upgrade: yes", []string{"aptget update || e=1\n\taptget dist-upgrade || e=1\n\treturn"}, []string{"aptget install"}},
		{"packages", "packages: [nginx, [curl, 7.88.1-10], [jq], [vim, null]]",
			[]string{"aptget update || e=1\n\taptget install nginx curl=7.88.1-10 jq vim || e=1"}, []string{"dist-upgrade"}},
		{"bad package", "packages: [[a, b, c]]", []string{"aptget update", "cannot install packages: invalid package & version tuple'; e=1"}, []string{"install a"}},
		{"nothing to do", "packages: []\npackage_update: false", nil, []string{"aptget update", "module package"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Script([]byte("#cloud-config\n" + tt.config + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("script lacks %q:\n%s", w, s[len(prelude):])
				}
			}
			for _, n := range tt.not {
				if strings.Contains(s[len(prelude):], n) {
					t.Errorf("script has %q:\n%s", n, s[len(prelude):])
				}
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	for _, ud := range []string{"", gz("")} {
		if _, out, status := run(t, ud); out != "" || status != 0 {
			t.Errorf("empty user data: status %d, output %q", status, out)
		}
	}
}

func TestWriteFiles(t *testing.T) {
	text := "it's \"$HOME\" `id`\n\x01\xff\n"
	enc := map[string]string{"": text, "text/plain": text, "b64": b64s(text), "base64": b64s(text), "gz": gz(text), "gzip": gz(text),
		"gz+b64": b64s(gz(text)), "gz+base64": b64s(gz(text)), "gzip+b64": b64s(gz(text)), "gzip+base64": b64s(gz(text))}
	var config strings.Builder
	config.WriteString("#cloud-config\nwrite_files:\n")
	for e, content := range enc {
		config.WriteString("- {path: /enc/x" + strings.ReplaceAll(e, "/", "_") + ", encoding: '" + e + "', content: !!binary " + b64s(content) + "}\n")
	}
	config.WriteString(`- {path: "/odd/$(touch pwned) 'x'", content: odd, permissions: 0600}
- {path: relative/a, content: "1\n", permissions: '0750', owner: "root:root"}
- {path: /relative/a, content: "2\n", append: true}
- {path: /s/f, content: x, permissions: 493}
- {content: no path}
- {path: /bad, content: YWI, encoding: b64}
- {path: /after-bad, content: x}
`)
	root, out, status := run(t, config.String())
	if status != 1 || !strings.Contains(out, "write_files /bad: cannot decode the content") || !strings.Contains(out, "module write_files failed") {
		t.Errorf("status %d, output:\n%s", status, out)
	}
	for e := range enc {
		if got := read(t, filepath.Join(root, "enc", "x"+strings.ReplaceAll(e, "/", "_"))); got != text {
			t.Errorf("encoding %q wrote %q", e, got)
		}
	}
	if got := read(t, filepath.Join(root, "odd", "$(touch pwned) 'x'")); got != "odd" || mode(t, filepath.Join(root, "odd", "$(touch pwned) 'x'")) != 0o600 {
		t.Errorf("odd path: %q", got)
	}
	if got := read(t, filepath.Join(root, "relative/a")); got != "1\n2\n" || mode(t, filepath.Join(root, "relative/a")) != 0o644 {
		t.Errorf("relative/a: %q, mode %o", got, mode(t, filepath.Join(root, "relative/a")))
	}
	if m := mode(t, filepath.Join(root, "s/f")); m != 0o755 {
		t.Errorf("permissions 493: mode %o", m)
	}
	for _, p := range []string{"pwned", "odd/pwned", "after-bad"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			t.Errorf("%s exists", p)
		}
	}
	if !strings.Contains(out, "write_files entry 15 has no path: skipped") {
		t.Errorf("no warning for a missing path:\n%s", out)
	}
}

// TestOrder checks cloud-init's order: boothooks as parts are consumed,
// then write_files, deferred write_files, and the user scripts with runcmd
// in file-name order.
func TestOrder(t *testing.T) {
	log := `"$IMGBUILD_ROOT/log"`
	ud := mimeDoc(
		"Content-Type: text/cloud-config\n\n#cloud-config\nruncmd: [echo first >> /dev/null]\n",
		"Content-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"zz.sh\"\n\n#!/bin/sh\necho zz.sh >> "+log+"\n",
		"Content-Type: text/cloud-config\n\n#cloud-config\nwrite_files:\n- {path: /log, content: \"deferred\\n\", append: true, defer: true}\n"+
			"- {path: /log, content: \"write_files\\n\", append: true}\nruncmd:\n- echo runcmd >> "+log+"\n- [sh, -c, 'echo \"$0\" >> \"$IMGBUILD_ROOT/log\"', \"it's $HOME\"]\n",
		"Content-Type: text/x-shellscript\n\n#!/bin/sh\r\necho part-004 >> "+log+"\r\n", // CRLF, made LF
		"Content-Type: text/cloud-boothook\n\n#cloud-boothook\n#!/bin/sh\necho boothook >> "+log+"\n",
	)
	root, out, status := run(t, ud)
	want := "boothook\nwrite_files\ndeferred\npart-004\nruncmd\nit's $HOME\nzz.sh\n"
	if got := read(t, filepath.Join(root, "log")); got != want || status != 0 {
		t.Errorf("status %d, log\n%s\nwant\n%s\noutput:\n%s", status, got, want, out)
	}
	if got := read(t, filepath.Join(root, scriptDir, "runcmd")); !strings.HasPrefix(got, "#!/bin/sh\necho runcmd >> ") || mode(t, filepath.Join(root, scriptDir, "runcmd")) != 0o700 {
		t.Errorf("runcmd script %q", got)
	}
	if got := read(t, filepath.Join(root, boothookDir, "part-005")); got != "#!/bin/sh\necho boothook >> "+log+"\n" {
		t.Errorf("boothook saved as %q", got)
	}
}

// TestFailures checks that a failing part, script or YAML makes the script
// exit 1 while the later steps still run.
func TestFailures(t *testing.T) {
	ud := mimeDoc(
		"Content-Type: text/x-shellscript\n\n#!/bin/sh\necho failing; exit 3\n",
		"Content-Type: text/cloud-config\n\n#cloud-config\nwrite_files: [\n",
		"Content-Type: text/cloud-config\n\n#cloud-config\nruncmd: [\"false\", \"touch \\\"$IMGBUILD_ROOT/runcmd\\\"\"]\n",
		"Content-Type: text/x-shellscript\n\n#!/bin/sh\ntouch \"$IMGBUILD_ROOT/part-004\"\n",
		"Content-Type: text/x-shellscript\n\necho no interpreter\n",
	)
	root, out, status := run(t, ud)
	for _, w := range []string{"part-001 failed (exit status 3)", "part-002: failed loading cloud-config YAML: yaml: line", "part-005 failed: it does not start with #!",
		"module scripts_user failed", "finished with errors"} {
		if !strings.Contains(out, "imgbuild cloud-init: "+w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "runcmd failed") {
		t.Errorf("runcmd failed although its last command succeeded:\n%s", out)
	}
	for _, f := range []string{"runcmd", "part-004"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil || status != 1 {
			t.Errorf("status %d, %s not run: %v", status, f, err)
		}
	}
	if _, out, status := run(t, "#!/bin/sh\nexit 4\n"); status != 1 || !strings.Contains(out, "part-001 failed (exit status 4)") {
		t.Errorf("failing script: status %d, output %q", status, out)
	}
	if _, out, status := run(t, "#cloud-config\nusers: [\n"); status != 1 || !strings.Contains(out, "part-001: failed loading cloud-config YAML") {
		t.Errorf("malformed YAML: status %d, output %q", status, out)
	}
	if _, out, status := run(t, mimeDoc("Content-Type: application/x-gzip\n\nnot gzip", "Content-Type: text/x-shellscript\n\n#!/bin/sh\necho ran\n")); status != 1 || strings.Contains(out, "ran") {
		t.Errorf("bad gzip part: status %d, output %q", status, out)
	}
	if _, err := Script([]byte("#cloud-config\nwrite_files: [{path: \"/a\\0b\"}]\n")); err == nil {
		t.Error("no error for a NUL byte in a path")
	}
}

// TestIgnored checks what is reported and ignored without failing.
func TestIgnored(t *testing.T) {
	ud := mimeDoc(
		"Content-Type: text/cloud-config\nMerge-Type: list(append)\n\n#cloud-config\nhostname: h\nmerge_how: list(append)\nruncmd: [echo one]\nwrite_files: [{path: /kept, content: k, source: {uri: x}}]\n",
		"Content-Type: text/cloud-config\n\n#cloud-config\nruncmd: [echo two]\nusers: [{name: u, uid: 5, lock_passwd: false}]\n",
		"Content-Type: text/x-include-url\n\nhttp://example.com/\n",
		"Content-Type: text/plain\n\n## template: jinja\n#cloud-config\n",
		"Content-Type: text/cloud-config\n\n#cloud-config\n",
		"Content-Type: application/json\n\n{}\n",
		"Content-Type: text/x-shellscript-per-boot\n\n#!/bin/sh\n",
	)
	root, out, status := run(t, ud)
	for _, w := range []string{
		`Merge-Type header ignored`, `unsupported key "merge_how" ignored`, `unsupported key "hostname" ignored`,
		`unsupported key "source" of write_files entry 1 ignored`, `unsupported key "uid" of user u ignored`,
		`unsupported part type "text/x-include-url" ignored`, `unsupported part type "text/jinja2" ignored`,
		`part-004: empty cloud-config ignored`, `part-005: user data of type application/json not recognised ("{}...")`,
		`unsupported part type "text/x-shellscript-per-boot" ignored`, "\ntwo\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if status != 0 || strings.Contains(out, "one") || read(t, filepath.Join(root, "kept")) != "k" {
		t.Errorf("status %d; the later part's runcmd must replace the earlier one, write_files stay:\n%s", status, out)
	}
	if _, out, status := run(t, "just text\n"); status != 0 || !strings.Contains(out, `part-001: user data of type text/x-not-multipart not recognised ("just text...")`) {
		t.Errorf("unknown user data: status %d, output %q", status, out)
	}
}

func TestUsersOnHost(t *testing.T) {
	ud := `#cloud-config
users:
  - default
  - name: bob
    homedir: /srv/bob
    sudo: ["ALL=(ALL) NOPASSWD:ALL", "ALL=(root) /bin/ls"]
    ssh_authorized_keys: ["ssh-ed25519 AAAA bob@a", "ssh-ed25519 AAAA bob@a", "ssh-rsa BBBB bob@b"]
  - name: carol
    sudo: ALL=(ALL) ALL
    ssh_authorized_keys: ssh-ed25519 CCCC carol
  - name: dave
    sudo: false
`
	root, out, status := run(t, ud)
	if status != 0 || !strings.Contains(out, "skipped on the host: useradd bob") {
		t.Fatalf("status %d, output:\n%s", status, out)
	}
	sudoers := filepath.Join(root, "etc/sudoers.d/90-cloud-init-users")
	want := "# Created by imgbuild cloud-init\n\n# User rules for bob\nbob ALL=(ALL) NOPASSWD:ALL\nbob ALL=(root) /bin/ls\n\n# User rules for carol\ncarol ALL=(ALL) ALL\n"
	if got := read(t, sudoers); got != want || mode(t, sudoers) != 0o440 || mode(t, filepath.Dir(sudoers)) != 0o750 {
		t.Errorf("sudoers.d file (mode %o):\n%s\nwant\n%s", mode(t, sudoers), got, want)
	}
	if got := read(t, filepath.Join(root, "etc/sudoers")); !strings.Contains(got, "\n#includedir /etc/sudoers.d\n") {
		t.Errorf("/etc/sudoers: %q", got)
	}
	keys := filepath.Join(root, "srv/bob/.ssh/authorized_keys")
	if got := read(t, keys); got != "ssh-ed25519 AAAA bob@a\nssh-rsa BBBB bob@b\n" || mode(t, keys) != 0o600 || mode(t, filepath.Dir(keys)) != 0o700 {
		t.Errorf("bob's keys (mode %o): %q", mode(t, keys), got)
	}
	if got := read(t, filepath.Join(root, "home/carol/.ssh/authorized_keys")); got != "ssh-ed25519 CCCC carol\n" {
		t.Errorf("carol's keys: %q", got)
	}

	// A second run adds only what is missing.
	s, _ := Script([]byte(ud))
	os.WriteFile(filepath.Join(root, "etc/sudoers"), []byte("@includedir /etc/sudoers.d\n"), 0o440)
	os.WriteFile(keys, []byte("ssh-rsa BBBB bob@b"), 0o600)
	cmd := exec.Command("/bin/sh", "-c", s)
	cmd.Env = append(os.Environ(), "IMGBUILD_ROOT="+root)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if got := read(t, sudoers); got != want {
		t.Errorf("sudoers.d file after a second run:\n%s", got)
	}
	if got := read(t, filepath.Join(root, "etc/sudoers")); got != "@includedir /etc/sudoers.d\n" {
		t.Errorf("/etc/sudoers changed: %q", got)
	}
	if got := read(t, keys); got != "ssh-rsa BBBB bob@b\nssh-ed25519 AAAA bob@a\n" {
		t.Errorf("bob's keys after a second run: %q", got)
	}
}
