package template

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// resolvePath makes a relative path relative to the template directory.
func resolvePath(base, p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

func pathFunc(impl func(p string) (cty.Value, error)) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl:   func(args []cty.Value, _ cty.Type) (cty.Value, error) { return impl(args[0].AsString()) },
	})
}

// fileFunctions returns the functions that read the file system. Relative
// paths are resolved against the template directory.
func fileFunctions(base string) map[string]function.Function {
	return map[string]function.Function{
		"file": pathFunc(func(p string) (cty.Value, error) {
			s, err := readText(resolvePath(base, p))
			return cty.StringVal(s), err
		}),
		"fileexists": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "path", Type: cty.String}},
			Type:   function.StaticReturnType(cty.Bool),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				fi, err := os.Stat(resolvePath(base, args[0].AsString()))
				return cty.BoolVal(err == nil && fi.Mode().IsRegular()), nil
			},
		}),
		"fileset": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "path", Type: cty.String}, {Name: "pattern", Type: cty.String}},
			Type:   function.StaticReturnType(cty.Set(cty.String)),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return fileSet(resolvePath(base, args[0].AsString()), args[1].AsString())
			},
		}),
		"basename":   pathFunc(func(p string) (cty.Value, error) { return cty.StringVal(filepath.Base(p)), nil }),
		"dirname":    pathFunc(func(p string) (cty.Value, error) { return cty.StringVal(filepath.Dir(p)), nil }),
		"pathexpand": pathFunc(func(p string) (cty.Value, error) { return cty.StringVal(expandHome(p)), nil }),
		"abspath": pathFunc(func(p string) (cty.Value, error) {
			a, err := filepath.Abs(p)
			return cty.StringVal(filepath.ToSlash(a)), err
		}),
	}
}

func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") || p == "~" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}

func readText(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%s is not UTF-8 text; file() reads text files only", path)
	}
	return string(b), nil
}

// fileSet returns the files under dir matching a glob pattern where "**"
// matches any number of directories.
func fileSet(dir, pattern string) (cty.Value, error) {
	var matches []cty.Value
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if globMatch(pattern, rel) {
			matches = append(matches, cty.StringVal(rel))
		}
		return nil
	})
	if err != nil {
		return cty.NilVal, fmt.Errorf("fileset %s: %w", dir, err)
	}
	if len(matches) == 0 {
		return cty.SetValEmpty(cty.String), nil
	}
	sort.Slice(matches, func(i, j int) bool { return matches[i].AsString() < matches[j].AsString() })
	return cty.SetVal(matches), nil
}

// globMatch matches slash-separated paths; "**" spans directories and
// "{a,b}" matches either alternative, as in Packer's fileset.
func globMatch(pattern, name string) bool {
	for _, p := range expandBraces(pattern) {
		if globMatchOne(p, name) {
			return true
		}
	}
	return false
}

// expandBraces turns "x{a,b}y" into "xay" and "xby", recursively.
func expandBraces(pattern string) []string {
	open := strings.IndexByte(pattern, '{')
	if open < 0 {
		return []string{pattern}
	}
	depth, start, end := 0, open+1, -1
	var alts []string
	for i := open; i < len(pattern) && end < 0; i++ {
		switch pattern[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				alts, end = append(alts, pattern[start:i]), i
			}
		case ',':
			if depth == 1 {
				alts, start = append(alts, pattern[start:i]), i+1
			}
		}
	}
	if end < 0 {
		return []string{pattern}
	}
	var out []string
	for _, a := range alts {
		out = append(out, expandBraces(pattern[:open]+a+pattern[end+1:])...)
	}
	return out
}

func globMatchOne(pattern, name string) bool {
	pp, np := strings.Split(pattern, "/"), strings.Split(name, "/")
	var match func(i, j int) bool
	match = func(i, j int) bool {
		if i == len(pp) {
			return j == len(np)
		}
		if pp[i] == "**" {
			for k := j; k <= len(np); k++ {
				if match(i+1, k) {
					return true
				}
			}
			return false
		}
		if j == len(np) {
			return false
		}
		ok, _ := filepath.Match(pp[i], np[j])
		return ok && match(i+1, j+1)
	}
	return match(0, 0)
}

// templateFileFunc renders a file as an HCL template with the given vars.
func templateFileFunc(base string, funcs func() map[string]function.Function) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}, {Name: "vars", Type: cty.DynamicPseudoType}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			path := resolvePath(base, args[0].AsString())
			src, err := readText(path)
			if err != nil {
				return cty.NilVal, err
			}
			expr, diags := hclsyntax.ParseTemplate([]byte(src), path, hcl.InitialPos)
			if diags.HasErrors() {
				return cty.NilVal, fmt.Errorf("templatefile %s: %s", path, diags.Error())
			}
			vars := map[string]cty.Value{}
			if v := args[1]; !v.IsNull() && v.CanIterateElements() {
				for it := v.ElementIterator(); it.Next(); {
					k, ev := it.Element()
					vars[k.AsString()] = ev
				}
			}
			fs := map[string]function.Function{}
			for k, f := range funcs() {
				if k != "templatefile" {
					fs[k] = f
				}
			}
			val, diags := expr.Value(&hcl.EvalContext{Variables: vars, Functions: fs})
			if diags.HasErrors() {
				return cty.NilVal, fmt.Errorf("templatefile %s: %s", path, diags.Error())
			}
			return val, nil
		},
	})
}
