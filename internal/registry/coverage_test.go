package registry

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"

	"github.com/imgbuild/imgbuild/hcl2spec"
	"github.com/imgbuild/imgbuild/internal/check"
)

// repoRoot is the repository root, seen from this package's directory.
const repoRoot = "../.."

// use says how imgbuild honours one HCL field of a component's Config:
// code in one of the places in reads it (a selector .GoFieldName), or
// validate refuses a body that sets it with the HCL refused, at that line.
type use struct {
	in      []string
	refused string
}

// impl classifies a field as implemented by code in the given places.
func impl(in ...string) use { return use{in: in} }

// refuse classifies a field as refused; hcl sets it.
func refuse(hcl string) use { return use{refused: hcl} }

// TestEveryFieldIsUsedOrRefused walks every field, nested blocks
// included, of every registered component's Config and fails when one is
// neither read by the runtime nor refused by validate at its own line, so
// no setting can be parsed and silently dropped. A new field fails until
// it is classified in coverage_table_test.go.
func TestEveryFieldIsUsedOrRefused(t *testing.T) {
	dir := minimalDir(t)
	reads := selectorIndex{t: t, names: map[string]map[string]bool{}}
	for _, c := range components {
		key := string(c.Kind) + "/" + c.Type
		t.Run(key, func(t *testing.T) {
			if name, ok := refusedComponents[key]; ok {
				expectRefused(t, c, dir, "", name)
				return
			}
			table, ok := fieldUses[key]
			if !ok {
				t.Fatal("no field table: classify every field of this component in coverage_table_test.go")
			}
			seen := map[string]bool{}
			walkFields(t, configType(c), "", func(path, goName string) bool {
				seen[path] = true
				u, ok := table[path]
				switch {
				case !ok:
					t.Errorf("%s is neither used by the runtime nor refused by validate: implement it, or refuse it in Prepare (check.Context.RefuseSet), and classify it in coverage_table_test.go", path)
				case u.refused != "":
					expectRefused(t, c, dir, u.refused, path)
					return false // a refused block covers its attributes
				case !reads.any(u.in, goName):
					t.Errorf("%s is classified as implemented, but no code in %v reads .%s", path, u.in, goName)
				}
				return true
			})
			for p := range table {
				if !seen[p] {
					t.Errorf("coverage_table_test.go classifies %s, which is not a field (or is inside a refused block)", p)
				}
			}
		})
	}
}

// TestRefusedValues: values of implemented fields that validate refuses.
func TestRefusedValues(t *testing.T) {
	dir := minimalDir(t)
	for _, v := range refusedValues {
		t.Run(v.name, func(t *testing.T) {
			kind, typ, _ := strings.Cut(v.component, "/")
			c, ok := Lookup(Kind(kind), typ)
			if !ok {
				t.Fatalf("no component %s", v.component)
			}
			expectRefused(t, c, dir, v.set, v.name)
		})
	}
}

// TestRefusedAllAtOnce sets every refused field of amazon-ebs in one body:
// each is reported, at its own line, in the same run.
func TestRefusedAllAtOnce(t *testing.T) {
	c := mustFind(t, "amazon-ebs")
	src := minimalBodies[c.Type]
	want := map[int]string{}
	for _, path := range slices.Sorted(maps.Keys(fieldUses["source/amazon-ebs"])) {
		if u := fieldUses["source/amazon-ebs"][path]; u.refused != "" {
			src += "\n" + u.refused
			want[strings.Count(src, "\n")-strings.Count(u.refused, "\n")+1] = path
		}
	}
	got := map[int]string{}
	for _, d := range prepare(t, c, src, minimalDir(t)) {
		if name, ok := check.UnimplementedName(d); ok {
			got[d.Subject.Start.Line] = name
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("refusals by line = %v, want %v", got, want)
	}
}

// expectRefused decodes the component's minimal body with set appended
// and checks that Prepare refuses name at set's first line (the body's
// first line when set is empty: the whole block is refused).
func expectRefused(t *testing.T, c Component, dir, set, name string) {
	t.Helper()
	src, line := minimalBodies[c.Type], 1
	if set != "" {
		src += "\n" + set
		line = strings.Count(minimalBodies[c.Type], "\n") + 2
	}
	for _, d := range prepare(t, c, src, dir) {
		if got, ok := check.UnimplementedName(d); ok && got == name && d.Subject != nil && d.Subject.Start.Line == line {
			return
		}
	}
	t.Errorf("validate does not refuse %s at line %d of:\n%s", name, line, src)
}

// prepare decodes src like the template loader and returns Prepare's
// diagnostics; the body itself must decode.
func prepare(t *testing.T, c Component, src, dir string) hcl.Diagnostics {
	t.Helper()
	body := parse(t, src)
	val, diags := hcldec.Decode(body, c.Spec, nil)
	if diags.HasErrors() {
		t.Fatalf("decode:\n%s\n%v", src, diags)
	}
	cfg := c.New()
	if err := hcl2spec.Decode(val, cfg); err != nil {
		t.Fatal(err)
	}
	ctx := &check.Context{Fields: check.BodyFields(body), BaseDir: dir, Unknown: map[string]bool{}}
	cfg.Prepare(ctx)
	return ctx.Diags
}

// walkFields calls visit for every field of struct type t, with its dotted
// HCL path and Go field name, and descends into blocks when visit says so.
func walkFields(t *testing.T, typ reflect.Type, prefix string, visit func(path, goName string) bool) {
	t.Helper()
	fields, err := hcl2spec.Fields(typ)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		if visit(prefix+f.Name, typ.FieldByIndex(f.Index).Name) && f.Block {
			walkFields(t, f.BlockStruct(), prefix+f.Name+".", visit)
		}
	}
}

// selectorIndex tells which selector names (x.Name) the Go code of a place
// uses. A directory means its non-test files except config.go.
type selectorIndex struct {
	t     *testing.T
	names map[string]map[string]bool // by place
}

func (s selectorIndex) any(places []string, name string) bool {
	for _, p := range places {
		if s.of(p)[name] {
			return true
		}
	}
	return false
}

func (s selectorIndex) of(place string) map[string]bool {
	if names, ok := s.names[place]; ok {
		return names
	}
	path := filepath.Join(repoRoot, place)
	files := []string{path}
	if fi, err := os.Stat(path); err != nil {
		s.t.Fatalf("place %s: %v", place, err)
	} else if fi.IsDir() {
		all, _ := filepath.Glob(filepath.Join(path, "*.go"))
		files = slices.DeleteFunc(all, func(f string) bool {
			return strings.HasSuffix(f, "_test.go") || filepath.Base(f) == "config.go"
		})
	}
	names := map[string]bool{}
	for _, f := range files {
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.SkipObjectResolution)
		if err != nil {
			s.t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				names[sel.Sel.Name] = true
			}
			return true
		})
	}
	s.names[place] = names
	return names
}
