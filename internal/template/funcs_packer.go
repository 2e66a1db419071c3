package template

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/imgbuild/imgbuild/internal/interpolate"
	strftime "github.com/jehiah/go-strftime"
	"github.com/oklog/ulid/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	"github.com/zclconf/go-cty/cty/gocty"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/ianaindex"
)

// Functions Packer adds to go-cty's standard library and go-cty-funcs, with
// the semantics its documentation gives them.

// boolListFunc builds alltrue and anytrue: a list of bools folded into one.
// An unknown element makes the result unknown unless the answer is already
// decided; null elements count as false.
func boolListFunc(stopAt bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			unknown := false
			for it := args[0].ElementIterator(); it.Next(); {
				_, v := it.Element()
				switch {
				case !v.IsKnown():
					unknown = true
				case v.IsNull():
					if !stopAt { // alltrue: null is false, the answer
						return cty.False, nil
					}
				case v.True() == stopAt:
					return cty.BoolVal(stopAt), nil
				}
			}
			if unknown {
				return cty.UnknownVal(cty.Bool), nil
			}
			return cty.BoolVal(!stopAt), nil
		},
	})
}

var (
	allTrueFunc = boolListFunc(false)
	anyTrueFunc = boolListFunc(true)

	// base64GzipFunc gzips a string and encodes the result in base64.
	base64GzipFunc = stringFunc(func(s string) (cty.Value, error) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write([]byte(s)); err != nil {
			return cty.NilVal, fmt.Errorf("base64gzip: %w", err)
		}
		if err := zw.Close(); err != nil {
			return cty.NilVal, fmt.Errorf("base64gzip: %w", err)
		}
		return cty.StringVal(base64.StdEncoding.EncodeToString(buf.Bytes())), nil
	})

	// textEncodeBase64Func encodes a string in the named IANA character
	// encoding and returns the bytes in base64.
	textEncodeBase64Func = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "string", Type: cty.String}, {Name: "encoding", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			enc, name, err := ianaEncoding(args[1].AsString())
			if err != nil {
				return cty.NilVal, function.NewArgError(1, err)
			}
			b, err := enc.NewEncoder().Bytes([]byte(args[0].AsString()))
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "the given string contains characters that cannot be represented in %s", name)
			}
			return cty.StringVal(base64.StdEncoding.EncodeToString(b)), nil
		},
	})

	// textDecodeBase64Func decodes base64 data that holds text in the named
	// IANA character encoding and returns it as a UTF-8 string.
	textDecodeBase64Func = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "source", Type: cty.String}, {Name: "encoding", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			enc, name, err := ianaEncoding(args[1].AsString())
			if err != nil {
				return cty.NilVal, function.NewArgError(1, err)
			}
			raw, err := base64.StdEncoding.DecodeString(args[0].AsString())
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "the given value is not valid base64: %s", err)
			}
			b, err := enc.NewDecoder().Bytes(raw)
			if err != nil || bytes.ContainsRune(b, '\uFFFD') {
				return cty.NilVal, function.NewArgErrorf(0, "the given string contains symbols that are not defined for %s", name)
			}
			return cty.StringVal(string(b)), nil
		},
	})

	// rfc3339ParseFunc splits an RFC 3339 timestamp into its parts.
	rfc3339ParseFunc = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "timestamp", Type: cty.String}},
		Type:   function.StaticReturnType(timePartsType("unix")),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			s := args[0].AsString()
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"} {
				if t, err := time.Parse(layout, s); err == nil {
					return timeParts(t, "unix", cty.NumberIntVal(t.Unix())), nil
				}
			}
			return cty.NilVal, function.NewArgErrorf(0, "%q is not a valid RFC3339 timestamp", s)
		},
	})

	// unixTimestampParseFunc splits a Unix time (seconds) into its parts, in UTC.
	unixTimestampParseFunc = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "unix_timestamp", Type: cty.Number}},
		Type:   function.StaticReturnType(timePartsType("rfc3339")),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			var secs int64
			if err := gocty.FromCtyValue(args[0], &secs); err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "unix_timestamp must be a whole number of seconds: %s", err)
			}
			t := time.Unix(secs, 0).UTC()
			return timeParts(t, "rfc3339", cty.StringVal(t.Format(time.RFC3339))), nil
		},
	})

	// indexFunc is Packer's index(list, value): the position of the first
	// element equal to value. (go-cty's IndexFunc is element access, a
	// different function.)
	indexFunc = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}, {Name: "value", Type: cty.DynamicPseudoType}},
		Type:   function.StaticReturnType(cty.Number),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			ty := args[0].Type()
			if !ty.IsListType() && !ty.IsTupleType() {
				return cty.NilVal, function.NewArgErrorf(0, "argument must be a list or tuple")
			}
			if !args[0].IsKnown() {
				return cty.UnknownVal(cty.Number), nil
			}
			if args[0].LengthInt() == 0 {
				return cty.NilVal, function.NewArgErrorf(0, "cannot search an empty list")
			}
			for it := args[0].ElementIterator(); it.Next(); {
				i, v := it.Element()
				eq, err := stdlib.Equal(v, args[1])
				if err != nil {
					return cty.NilVal, err
				}
				if !eq.IsKnown() {
					return cty.UnknownVal(cty.Number), nil
				}
				if eq.True() {
					return i, nil
				}
			}
			return cty.NilVal, fmt.Errorf("item not found")
		},
	})
)

// ianaEncoding looks up an IANA character-set name or alias.
func ianaEncoding(name string) (encoding.Encoding, string, error) {
	enc, err := ianaindex.IANA.Encoding(name)
	if err != nil || enc == nil {
		return nil, "", fmt.Errorf("%q is not a supported IANA encoding name or alias", name)
	}
	canonical, err := ianaindex.IANA.Name(enc)
	if err != nil {
		canonical = name
	}
	return enc, canonical, nil
}

// timePartsType is the object rfc3339_parse and unix_timestamp_parse
// return; extra names the one attribute in which they differ.
func timePartsType(extra string) cty.Type {
	attrs := map[string]cty.Type{
		"year": cty.Number, "year_day": cty.Number, "day": cty.Number, "month": cty.Number,
		"month_name": cty.String, "weekday": cty.Number, "weekday_name": cty.String,
		"hour": cty.Number, "minute": cty.Number, "second": cty.Number,
		"iso_year": cty.Number, "iso_week": cty.Number,
	}
	attrs[extra] = cty.Number
	if extra == "rfc3339" {
		attrs[extra] = cty.String
	}
	return cty.Object(attrs)
}

func timeParts(t time.Time, extra string, extraVal cty.Value) cty.Value {
	isoYear, isoWeek := t.ISOWeek()
	n := func(i int) cty.Value { return cty.NumberIntVal(int64(i)) }
	return cty.ObjectVal(map[string]cty.Value{
		"year": n(t.Year()), "year_day": n(t.YearDay()), "day": n(t.Day()), "month": n(int(t.Month())),
		"month_name": cty.StringVal(t.Month().String()), "weekday": n(int(t.Weekday())),
		"weekday_name": cty.StringVal(t.Weekday().String()),
		"hour":         n(t.Hour()), "minute": n(t.Minute()), "second": n(t.Second()),
		"iso_year": n(isoYear), "iso_week": n(isoWeek),
		extra: extraVal,
	})
}

// legacyTimeFunc builds legacy_isotime (Go layout) and legacy_strftime
// (C strftime directives): both format the run's start time in UTC, and
// without an argument give it in RFC 3339.
func legacyTimeFunc(now time.Time, format func(layout string, t time.Time) string) function.Function {
	return function.New(&function.Spec{
		VarParam: &function.Parameter{Name: "format", Type: cty.String},
		Type:     function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			t := now.UTC()
			switch len(args) {
			case 0:
				return cty.StringVal(t.Format(time.RFC3339)), nil
			case 1:
				return cty.StringVal(format(args[0].AsString(), t)), nil
			}
			return cty.NilVal, fmt.Errorf("too many arguments: at most one format is accepted, got %d", len(args))
		},
	})
}

func goLayout(layout string, t time.Time) string { return t.Format(layout) }

func strftimeLayout(layout string, t time.Time) string { return strftime.Format(layout, t) }

// fileBase64Func reads a file and returns its bytes in base64, for binary
// files file() cannot read. As in Packer, and unlike file(), a relative
// path is read from the working directory (workDir), not the template's,
// and "~" is not expanded.
func fileBase64Func(workDir string) function.Function {
	return pathFunc(func(p string) (cty.Value, error) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(workDir, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return cty.NilVal, fmt.Errorf("failed to read file %q: %w", p, err)
		}
		return cty.StringVal(base64.StdEncoding.EncodeToString(b)), nil
	})
}

// Version is reported to templates as packer.version: the Packer version
// imgbuild follows, the one {{packer_version}} renders too.
var Version = interpolate.PackerVersion

// runFingerprint is this run's version fingerprint: like Packer, one ULID
// per invocation.
var runFingerprint = sync.OnceValue(func() string { return ulid.Make().String() })

// packerObject is the packer.* object of expressions: packer.version, and
// packer.versionFingerprint, which Packer sets to the fingerprint of the HCP
// Packer version being built: HCP_PACKER_BUILD_FINGERPRINT when set, else a
// ULID generated for the run. imgbuild publishes nothing to HCP Packer but
// gives templates the same value, so names and tags built from it work.
func (l *loader) packerObject() cty.Value {
	fp := l.opts.Getenv("HCP_PACKER_BUILD_FINGERPRINT")
	if fp == "" {
		fp = runFingerprint()
	}
	return cty.ObjectVal(map[string]cty.Value{
		"version":            cty.StringVal(Version),
		"versionFingerprint": cty.StringVal(fp),
	})
}
