package guest

import (
	"bufio"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrNoDebootstrap is returned (wrapped) when the base system must be made
// and debootstrap is missing.
var ErrNoDebootstrap = errors.New("debootstrap is not installed; install it with: apt-get install -y debootstrap")

// baseRecipe is what the base system is made from, beyond the mirror and
// suite; changing it (or base.sh) makes a new base.
const baseRecipe = "minbase;openssh-server,sudo,ca-certificates"

//go:embed base.sh
var baseScript string

// BaseOptions says where the base system is cached and who hears about
// its making.
type BaseOptions struct {
	// CacheDir holds the base systems; empty means DefaultCacheDir.
	CacheDir string
	// Progress receives one line per step while a base is made (the first
	// time only); nil discards them.
	Progress func(line string)
	// Sources is apt's configuration to read the mirror from; empty means
	// /etc/apt.
	Sources string
}

// DefaultCacheDir is $XDG_CACHE_HOME/imgbuild/localcloud (usually
// ~/.cache/imgbuild/localcloud).
func DefaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "imgbuild", "localcloud")
}

// Mirror is a Debian (or Ubuntu) package registry and suite.
type Mirror struct {
	URI   string
	Suite string
}

// EnsureBase returns the root directory of the base system, making it with
// debootstrap from the host apt's own mirror the first time (a few
// minutes). Concurrent callers, in any process, wait for one making.
func EnsureBase(ctx context.Context, opts BaseOptions) (string, error) {
	if err := Supported(); err != nil {
		return "", err
	}
	if opts.CacheDir == "" {
		opts.CacheDir = DefaultCacheDir()
	}
	if opts.Progress == nil {
		opts.Progress = func(string) {}
	}
	m, err := HostMirror(opts.Sources)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(m.URI + "\n" + m.Suite + "\n" + baseRecipe + "\n" + baseScript))
	dir := filepath.Join(opts.CacheDir, "debian-"+m.Suite+"-"+hex.EncodeToString(sum[:6]))
	root := filepath.Join(dir, "rootfs")
	if ready(dir) {
		return root, nil
	}
	if err := os.MkdirAll(opts.CacheDir, 0o755); err != nil {
		return "", fmt.Errorf("create guest cache %s: %w", opts.CacheDir, err)
	}
	unlock, err := lockFile(ctx, dir+".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if ready(dir) {
		return root, nil
	}
	if err := makeBase(ctx, dir, m, opts.Progress); err != nil {
		return "", err
	}
	return root, nil
}

func ready(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "ready"))
	return err == nil
}

// makeBase runs debootstrap into a fresh directory next to dir, prepares
// the system (login users, sudo, guest tools, package lists) and renames it
// into place.
func makeBase(ctx context.Context, dir string, m Mirror, progress func(string)) error {
	bin, err := exec.LookPath("debootstrap")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/debootstrap"); serr != nil {
			return fmt.Errorf("make the local cloud's guest base system: %w", ErrNoDebootstrap)
		}
		bin = "/usr/sbin/debootstrap"
	}
	tmp := dir + ".making"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove an unfinished base system %s: %w", tmp, err)
	}
	root := filepath.Join(tmp, "rootfs")
	progress(fmt.Sprintf("making the guest base system (debootstrap %s from %s, once; a few minutes)", m.Suite, m.URI))
	cmd := exec.CommandContext(ctx, bin, "--variant=minbase", "--include=openssh-server,sudo,ca-certificates", m.Suite, root, m.URI)
	if err := runLines(cmd, phases(progress)); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("debootstrap %s from %s into %s: %w", m.Suite, m.URI, root, err)
	}
	progress("preparing login users, sudo and package lists")
	if err := copyFile("/etc/resolv.conf", filepath.Join(root, "etc/resolv.conf")); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	prep := exec.CommandContext(ctx, "chroot", root, "/bin/sh", "-s")
	prep.Stdin = strings.NewReader(baseScript)
	prep.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"}
	if err := runLines(prep, progress); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("prepare the guest base system in %s: %w", root, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "ready"), []byte(m.URI+" "+m.Suite+"\n"), 0o644); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("mark the guest base system ready: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("move the guest base system into place: %w", err)
	}
	progress("guest base system ready: " + filepath.Join(dir, "rootfs"))
	return nil
}

// perPackage matches debootstrap's lines about one package.
var perPackage = regexp.MustCompile(`^I: (Retrieving|Validating|Extracting|Unpacking|Configuring) [^ ]+( [^ ]+)? *$`)

// phases passes on debootstrap's lines about its phases, not the hundreds
// about single packages.
func phases(progress func(string)) func(string) {
	return func(line string) {
		if !perPackage.MatchString(line) {
			progress("debootstrap: " + strings.TrimPrefix(line, "I: "))
		}
	}
}

// runLines runs cmd, passing each line of its output to progress; on
// failure the error carries the last lines.
func runLines(cmd *exec.Cmd, progress func(string)) error {
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	var tail []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			progress(line)
			if tail = append(tail, line); len(tail) > 8 {
				tail = tail[1:]
			}
		}
	}()
	err := cmd.Run()
	w.Close()
	<-done
	if err != nil {
		return fmt.Errorf("%w; last output:\n%s", err, strings.Join(tail, "\n"))
	}
	return nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("read %s: %w", from, err)
	}
	if err := os.Remove(to); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("replace %s: %w", to, err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", to, err)
	}
	return nil
}

// HostMirror reads the first binary ("deb") source of the host's apt
// configuration under dir (default /etc/apt): deb822 .sources files and
// one-line sources.list files alike. Security and updates suites are
// passed over; the main suite is what debootstrap needs.
func HostMirror(dir string) (Mirror, error) {
	if dir == "" {
		dir = "/etc/apt"
	}
	files := []string{filepath.Join(dir, "sources.list")}
	more, _ := filepath.Glob(filepath.Join(dir, "sources.list.d", "*"))
	files = append(files, more...)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var found []Mirror
		switch {
		case strings.HasSuffix(f, ".sources"):
			found = deb822Sources(string(b))
		case strings.HasSuffix(f, ".list"):
			found = oneLineSources(string(b))
		}
		for _, m := range found {
			if !strings.Contains(m.Suite, "-") && !strings.Contains(m.Suite, "/") {
				return m, nil
			}
		}
	}
	return Mirror{}, fmt.Errorf("no Debian package mirror in %s (sources.list or sources.list.d/*.sources): the guest base system is made from the mirror the host's apt uses", dir)
}

func deb822Sources(text string) []Mirror {
	var out []Mirror
	for _, stanza := range strings.Split(text, "\n\n") {
		fields := map[string]string{}
		for _, line := range strings.Split(stanza, "\n") {
			if strings.HasPrefix(line, "#") {
				continue
			}
			if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(k, " ") {
				fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
			}
		}
		if !strings.Contains(" "+fields["types"]+" ", " deb ") || strings.EqualFold(fields["enabled"], "no") {
			continue
		}
		uris, suites := strings.Fields(fields["uris"]), strings.Fields(fields["suites"])
		for _, u := range uris {
			for _, s := range suites {
				out = append(out, Mirror{URI: u, Suite: s})
			}
		}
	}
	return out
}

func oneLineSources(text string) []Mirror {
	var out []Mirror
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		if strings.HasPrefix(f[0], "[") { // options: [arch=amd64 signed-by=...]
			for len(f) > 0 && !strings.HasSuffix(f[0], "]") {
				f = f[1:]
			}
			if len(f) > 0 {
				f = f[1:]
			}
		}
		if len(f) >= 2 {
			out = append(out, Mirror{URI: f[0], Suite: f[1]})
		}
	}
	return out
}
