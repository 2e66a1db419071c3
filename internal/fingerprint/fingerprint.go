// Package fingerprint hashes everything that determines an image: the
// resolved source image, the builder's configuration, the provisioners'
// settings with the content of the files they read, and the parent
// build's fingerprint. Two builds with the same fingerprint make the same
// image, so a build whose fingerprint exists in every region it targets
// is skipped.
//
// Configurations are hashed field by field through their HCL names
// (hcl2spec.Fields), so the hash does not depend on Go field order, and
// fields left at their zero value are not hashed, so a field added in a
// later version does not change existing fingerprints. A struct field
// tagged fingerprint:"-" is left out (with everything under it): names,
// tags, credentials, connection and placement settings, which do not
// change what is inside the image. A field tagged fingerprint:"file"
// holds local paths (a string or a list): the content of each file, or of
// every file under a directory, is hashed with its path.
package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"time"

	"github.com/imgbuild/imgbuild/hcl2spec"
)

// Version changes when the way fingerprints are computed changes, so that
// images of an older scheme are rebuilt rather than wrongly matched.
const Version = "imgbuild-fingerprint-1"

// Hasher accumulates the inputs of one fingerprint. Fields tagged
// sensitive:"true" are left out, and mask (when set) replaces the secrets
// in every string it hashes: a fingerprint is published as a tag, and a
// hash of a weak password could be guessed from it.
type Hasher struct {
	h    hash.Hash
	mask func(string) string
	err  error
}

// New returns a Hasher; mask, when not nil, hides secrets in strings.
func New(mask func(string) string) *Hasher {
	if mask == nil {
		mask = func(s string) string { return s }
	}
	h := &Hasher{h: sha256.New(), mask: mask}
	h.Add("version", Version)
	return h
}

// Add hashes one labelled value.
func (h *Hasher) Add(label, value string) {
	value = h.mask(value)
	fmt.Fprintf(h.h, "%d:%s%d:%s", len(label), label, len(value), value)
}

// Config hashes a component's configuration (a pointer to its Config
// struct) under label. Relative file paths resolve in baseDir.
func (h *Hasher) Config(label string, cfg any, baseDir string) {
	if h.err != nil {
		return
	}
	v, err := h.canonical(reflect.ValueOf(cfg), baseDir)
	if err != nil {
		h.err = fmt.Errorf("%s: %w", label, err)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		h.err = fmt.Errorf("%s: %w", label, err)
		return
	}
	h.Add(label, string(b))
}

// Sum returns the fingerprint: "sha256:" and 64 hex digits.
func (h *Hasher) Sum() (string, error) {
	if h.err != nil {
		return "", h.err
	}
	return "sha256:" + hex.EncodeToString(h.h.Sum(nil)), nil
}

// canonical returns v as plain maps, lists and scalars, zero values left
// out (nil), struct fields by HCL name.
func (h *Hasher) canonical(v reflect.Value, baseDir string) (any, error) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil, nil
		}
		v = v.Elem()
	}
	if v.IsZero() {
		return nil, nil
	}
	if d, ok := v.Interface().(time.Duration); ok {
		return d.String(), nil
	}
	switch v.Kind() {
	case reflect.Struct:
		return h.canonicalStruct(v, baseDir)
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range v.Len() {
			e, err := h.canonical(v.Index(i), baseDir)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case reflect.Map:
		out := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			e, err := h.canonical(iter.Value(), baseDir)
			if err != nil {
				return nil, err
			}
			out[h.mask(fmt.Sprint(iter.Key().Interface()))] = e
		}
		return out, nil
	case reflect.String:
		return h.mask(v.String()), nil
	}
	return v.Interface(), nil
}

func (h *Hasher) canonicalStruct(v reflect.Value, baseDir string) (any, error) {
	fields, err := hcl2spec.Fields(v.Type())
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, f := range fields {
		mode := tagAlong(v.Type(), f.Index)
		if mode == "-" || f.Sensitive {
			continue
		}
		fv := v.FieldByIndex(f.Index)
		if fv.IsZero() {
			continue
		}
		var e any
		if mode == "file" {
			e, err = files(fv, baseDir)
		} else {
			e, err = h.canonical(fv, baseDir)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		if e != nil {
			out[f.Name] = e
		}
	}
	return out, nil
}

// tagAlong returns the fingerprint tag of the field at index, or "-" when
// a struct it is embedded through is left out.
func tagAlong(t reflect.Type, index []int) string {
	for i := range index {
		sf := t.FieldByIndex(index[:i+1])
		if tag := sf.Tag.Get("fingerprint"); tag == "-" || i == len(index)-1 {
			return tag
		}
	}
	return ""
}

// files hashes the content of the paths a field holds.
func files(v reflect.Value, baseDir string) (any, error) {
	var paths []string
	switch v.Kind() {
	case reflect.String:
		paths = []string{v.String()}
	case reflect.Slice:
		for i := range v.Len() {
			paths = append(paths, v.Index(i).String())
		}
	default:
		return nil, fmt.Errorf("fingerprint:\"file\" on a %s", v.Type())
	}
	out := make(map[string]string, len(paths))
	for _, p := range paths {
		sum, err := contentSum(resolve(baseDir, p))
		if err != nil {
			return nil, err
		}
		out[p] = sum
	}
	return out, nil
}

func resolve(baseDir, p string) string {
	if filepath.IsAbs(p) || baseDir == "" {
		return p
	}
	return filepath.Join(baseDir, p)
}

// contentSum hashes a file, or every regular file and link under a
// directory with its relative path and mode.
func contentSum(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("read %s for the fingerprint: %w", path, err)
	}
	h := sha256.New()
	if !fi.IsDir() {
		if err := hashFile(h, path); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	var names []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read %s for the fingerprint: %w", path, err)
	}
	sort.Strings(names)
	for _, p := range names {
		rel, _ := filepath.Rel(path, p)
		li, err := os.Lstat(p)
		if err != nil {
			return "", fmt.Errorf("read %s for the fingerprint: %w", p, err)
		}
		fmt.Fprintf(h, "%s\x00%o\x00", rel, li.Mode())
		switch {
		case li.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return "", fmt.Errorf("read %s for the fingerprint: %w", p, err)
			}
			fmt.Fprintf(h, "%s\x00", target)
		case li.Mode().IsRegular():
			if err := hashFile(h, p); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(h io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s for the fingerprint: %w", path, err)
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read %s for the fingerprint: %w", path, err)
	}
	return nil
}
