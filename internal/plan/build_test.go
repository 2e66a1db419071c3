package plan

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/registry"
	"github.com/imgbuild/imgbuild/internal/template"
	"github.com/imgbuild/imgbuild/provisioners/file"
	"github.com/imgbuild/imgbuild/provisioners/script"
	"github.com/imgbuild/imgbuild/provisioners/shell"
)

// fakeBuilder plans two steps around the provisioners, then the
// post-processors, the way a builder composes its pipeline.
type fakeBuilder struct{ err error }

func (f fakeBuilder) Plan(cfg any, p builder.Planner) error {
	if f.err != nil {
		return f.err
	}
	if _, ok := cfg.(*fakeConfig); !ok {
		return errors.New("wrong config")
	}
	up := p.Add(&builder.Step{ID: "up", Kind: "up", Label: "start", Cleanup: "stop"})
	last := p.Provisioners(up)
	done := p.Add(&builder.Step{ID: "done:r1", Kind: "done", Region: "r1", Label: "finish"}, last, up)
	p.PostProcessors(done)
	return nil
}

func (fakeBuilder) Start(context.Context, *builder.Env, any) (builder.Build, error) {
	return nil, errors.New("not started in this test")
}

type fakeConfig struct{}

func (*fakeConfig) Prepare(*check.Context) {}

// testTemplate builds a template by hand whose one source is of a fake
// builder type, with two provisioners (one only for another source) and
// two post-processor chains.
func testTemplate(b builder.Builder) *template.Template {
	src := &template.Source{Type: "fake", Name: "a", Component: registry.Component{Kind: registry.Builder, Type: "fake", Builder: b}}
	use := &template.SourceUse{Source: src, Name: "a", Config: &fakeConfig{}}
	return &template.Template{Builds: []*template.Build{{
		Name:    "b",
		Sources: []*template.SourceUse{use},
		Provisioners: []*template.Provisioner{
			{Type: "shell"}, {Type: "shell", Name: "other", Only: []string{"fake.other"}}, {Type: "file", Name: "f"},
		},
		PostProcessors: [][]*template.PostProcessor{{{Type: "manifest"}}, {{Type: "shell-local"}, {Type: "manifest"}}},
	}}}
}

// TestBuilderPlansThroughContract checks that a build's steps come from
// the builder its component names, with the provisioners and
// post-processors where the builder puts them.
func TestBuilderPlansThroughContract(t *testing.T) {
	p, err := New(testTemplate(fakeBuilder{}), Selection{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Builds[0].Steps {
		got = append(got, s.ID+" <- "+strings.Join(s.Deps, ","))
	}
	want := []string{
		"b.fake.a/up <- ",
		"b.fake.a/provision:1 <- b.fake.a/up",
		"b.fake.a/provision:3 <- b.fake.a/provision:1",
		"b.fake.a/done:r1 <- b.fake.a/provision:3,b.fake.a/up",
		"b.fake.a/post-process:1.1 <- b.fake.a/done:r1",
		"b.fake.a/post-process:2.1 <- b.fake.a/done:r1",
		"b.fake.a/post-process:2.2 <- b.fake.a/post-process:2.1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := p.Step("b.fake.a/provision:3"); s == nil || s.Kind != Provision || s.Provisioner.Name != "f" || s.Label != `provisioner file "f"` {
		t.Errorf("provision:3 = %+v", s)
	}
	if s := p.Step("b.fake.a/post-process:2.2"); s == nil || s.Kind != PostProcess || s.PostProcessor.Type != "manifest" {
		t.Errorf("post-process:2.2 = %+v", s)
	}
	if s := p.Step("b.fake.a/done:r1"); s == nil || s.Region != "r1" || s.Kind != "done" {
		t.Errorf("done:r1 = %+v", s)
	}
}

// TestBuilderRefuses checks that a builder's refusal, or a component
// without a builder, fails the plan naming the build.
func TestBuilderRefuses(t *testing.T) {
	_, err := New(testTemplate(fakeBuilder{err: errors.New("fake builds are not implemented yet")}), Selection{})
	if err == nil || err.Error() != "plan b.fake.a: fake builds are not implemented yet" {
		t.Errorf("refusing builder: %v", err)
	}
	_, err = New(testTemplate(nil), Selection{})
	if err == nil || err.Error() != "plan b.fake.a: fake is not a builder" {
		t.Errorf("no builder: %v", err)
	}
}

// TestStrategyDefers checks that with strategy "hybrid" the app layer is
// neither planned nor in Baked but compiled, in order, into the boot
// payload, and that a payload error fails the plan naming the
// provisioner's file and line.
func TestStrategyDefers(t *testing.T) {
	shellCfg := func(line string) registry.Config {
		c := &shell.Config{Source: script.Source{Inline: []string{line}}}
		c.Prepare(&check.Context{Fields: check.BodyFields(nil), Unknown: map[string]bool{}})
		return c
	}
	tpl := testTemplate(fakeBuilder{})
	b := tpl.Builds[0]
	b.Strategy = template.StrategyHybrid
	b.PostProcessors = nil
	at := func(line int) hcl.Range { return hcl.Range{Filename: "main.pkr.hcl", Start: hcl.Pos{Line: line}} }
	b.Provisioners = []*template.Provisioner{
		{Type: "shell", Layer: template.LayerOS, Configs: map[string]registry.Config{"fake.a": shellCfg("echo os")}, DeclRange: at(3)},
		{Type: "shell", Name: "app", Layer: template.LayerApp, Configs: map[string]registry.Config{"fake.a": shellCfg("echo app-one")}, DeclRange: at(7)},
		{Type: "shell", Layer: template.LayerPrereqs, Configs: map[string]registry.Config{"fake.a": shellCfg("echo prereqs")}, DeclRange: at(11)},
		{Type: "file", Layer: template.LayerApp, Configs: map[string]registry.Config{"fake.a": &file.Config{Content: "x", Destination: "/etc/x", Direction: file.Upload}}, DeclRange: at(15)},
	}
	p, err := New(tpl, Selection{})
	if err != nil {
		t.Fatal(err)
	}
	bp := p.Builds[0]
	var steps []string
	for _, s := range bp.Steps {
		steps = append(steps, s.ID)
	}
	if want := []string{"b.fake.a/up", "b.fake.a/provision:1", "b.fake.a/provision:3", "b.fake.a/done:r1"}; !slices.Equal(steps, want) {
		t.Errorf("steps %v, want %v", steps, want)
	}
	if bp.Strategy != "hybrid" || len(bp.Baked) != 2 || bp.Baked[0] != b.Provisioners[0] || bp.Baked[1] != b.Provisioners[2] {
		t.Errorf("strategy %q, baked %v", bp.Strategy, bp.Baked)
	}
	payload := string(bp.BootPayload)
	app, fileAt := strings.Index(payload, `provisioner shell "app" (main.pkr.hcl:7)`), strings.Index(payload, "provisioner file (main.pkr.hcl:15)")
	if !strings.HasPrefix(payload, "#!/bin/sh\n") || app < 0 || fileAt < app || strings.Contains(payload, "main.pkr.hcl:3") {
		t.Errorf("payload:\n%s", payload)
	}

	b.Provisioners[3].Configs["fake.a"] = &file.Config{Content: "x", Destination: "relative", Direction: file.Upload}
	_, err = New(tpl, Selection{})
	if want := `plan b.fake.a: boot payload: provisioner file (main.pkr.hcl:15): destination "relative" is not an absolute path`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want %q...", err, want)
	}

	b.Strategy = ""
	p, err = New(tpl, Selection{})
	if err != nil || len(p.Builds[0].Baked) != 4 || p.Builds[0].BootPayload != nil {
		t.Errorf("without a strategy: %v, baked %d, payload %q", err, len(p.Builds[0].Baked), p.Builds[0].BootPayload)
	}
}
