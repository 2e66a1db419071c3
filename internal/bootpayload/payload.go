package bootpayload

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxSize is EC2's limit on user data, before base64 encoding.
const MaxSize = 16384

// Part is one deferred provisioner, in template order.
type Part struct {
	Type        string // provisioner type: shell, powershell or file
	Name        string // its name attribute, "" when unnamed
	Where       string // its block's file:line, for messages
	PauseBefore time.Duration
	// Config is the provisioner's prepared configuration for the build:
	// *shell.Config, *powershell.Config or *file.Config.
	Config any
}

// label returns `provisioner shell "name" (main.pkr.hcl:20)`.
func (p Part) label() string {
	s := "provisioner " + p.Type
	if p.Name != "" {
		s += " " + strconv.Quote(p.Name)
	}
	if p.Where != "" {
		s += " (" + p.Where + ")"
	}
	return s
}

// Target is the build the payload is for.
type Target struct {
	BuildName   string // full build name, for PACKER_BUILD_NAME and the header
	BuilderType string // for PACKER_BUILDER_TYPE
	Windows     bool   // <powershell> user data instead of a shell script
	BaseDir     string // the working directory: relative paths resolve here
	Strategy    string // for the header comment
}

// Compile returns the boot payload of parts for target: nil when parts is
// empty. Its errors name the provisioner (type, name, file:line) they come
// from; a payload over MaxSize even compressed is a *TooLargeError.
func Compile(target Target, parts []Part) ([]byte, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	var w writer = &linux{}
	if target.Windows {
		w = &windows{}
	}
	w.begin(target)
	sizes := make([]Contribution, 0, len(parts))
	for i, p := range parts {
		before := w.len()
		if err := w.part(target, i+1, p); err != nil {
			return nil, fmt.Errorf("%s: %w", p.label(), err)
		}
		sizes = append(sizes, Contribution{Label: p.label(), Bytes: w.len() - before})
	}
	out := w.end()
	if len(out) <= MaxSize {
		return out, nil
	}
	tooLarge := &TooLargeError{Size: len(out), Windows: target.Windows, Parts: sizes}
	if target.Windows {
		return nil, tooLarge
	}
	z, err := gzipped(out)
	if err != nil {
		return nil, err
	}
	if len(z) <= MaxSize {
		return z, nil
	}
	tooLarge.Compressed = len(z)
	return nil, tooLarge
}

// writer renders a payload for one platform.
type writer interface {
	begin(t Target)
	part(t Target, n int, p Part) error
	len() int
	end() []byte
}

func gzipped(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("compress the boot payload: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress the boot payload: %w", err)
	}
	return buf.Bytes(), nil
}

// Contribution is what one provisioner adds to a payload, uncompressed.
type Contribution struct {
	Label string // `provisioner file "assets" (main.pkr.hcl:30)`
	Bytes int
}

// TooLargeError is a payload over MaxSize, compressed too when the
// platform allows it. Parts lists every provisioner's share.
type TooLargeError struct {
	Size       int // uncompressed bytes
	Compressed int // gzip-compressed bytes; 0 when not tried (Windows)
	Windows    bool
	Parts      []Contribution
}

// Largest returns the contributions, largest first (at most n).
func (e *TooLargeError) Largest(n int) []Contribution {
	out := append([]Contribution(nil), e.Parts...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Bytes > out[j].Bytes })
	return out[:min(n, len(out))]
}

func (e *TooLargeError) Error() string {
	size := fmt.Sprintf("%d bytes", e.Size)
	switch {
	case e.Compressed > 0:
		size += fmt.Sprintf(" (%d gzip-compressed)", e.Compressed)
	case e.Windows:
		size += " (Windows cannot read compressed user data)"
	}
	var largest []string
	for _, c := range e.Largest(3) {
		largest = append(largest, fmt.Sprintf("%s %d bytes", c.Label, c.Bytes))
	}
	return fmt.Sprintf("%s, over EC2's user data limit of %d bytes; largest: %s. Bake some of them (a lower layer, or strategy \"full\"), or have the payload fetch large files at boot",
		size, MaxSize, strings.Join(largest, ", "))
}
