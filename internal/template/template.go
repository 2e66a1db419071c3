package template

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/internal/registry"
)

// Template is a loaded, decoded and checked template.
type Template struct {
	Path      string               // the file or directory loaded
	Dir       string               // directory of the template files: file functions and path.root resolve here
	WorkDir   string               // working directory at load time: component paths (scripts, sources, user_data_file, ...) resolve here, as in Packer
	Files     map[string]*hcl.File // parsed files, for rendering diagnostics
	Variables map[string]*Variable
	Locals    map[string]*Local
	Data      map[string]*DataSource // key "type.name"
	Sources   map[string]*Source     // key "type.name"
	Builds    []*Build
	Secrets   []string // sensitive values, to mask in all output
	Now       time.Time
}

// Variable is an input variable declared with a variable block.
type Variable struct {
	Name        string
	Description string
	Type        cty.Type
	Default     cty.Value
	Sensitive   bool
	Value       cty.Value
	ValueFrom   string // "default", "env", "var-file", "-var"
	DeclRange   hcl.Range
	validations []*validation
	valueRange  hcl.Range
}

type validation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

// Local is a local value from a locals block or a local block.
type Local struct {
	Name      string
	Expr      hcl.Expression
	Sensitive bool
	Value     cty.Value
	DeclRange hcl.Range
}

// DataSource is a data block. Its Value is the data source's output object:
// real values when evaluated, placeholder values otherwise.
type DataSource struct {
	Type, Name string
	Component  registry.Component
	Body       hcl.Body
	Config     registry.Config
	Value      cty.Value
	Evaluated  bool
	DeclRange  hcl.Range
	broken     bool // unknown type: already reported, stays unknown
}

// Ref returns the data source's reference prefix, e.g. data.amazon-ami.base.
func (d *DataSource) Ref() string { return "data." + d.Type + "." + d.Name }

// Source is a top-level source block; it is decoded per use in a build
// because builds may override its attributes.
type Source struct {
	Type, Name string
	Component  registry.Component
	Body       hcl.Body
	DeclRange  hcl.Range
}

// Ref returns "source.<type>.<name>".
func (s *Source) Ref() string { return "source." + s.Type + "." + s.Name }

// Build is a build block.
type Build struct {
	Name         string
	Description  string
	Sources      []*SourceUse
	Provisioners []*Provisioner
	ErrorCleanup *Provisioner
	// PostProcessors holds chains: each post-processor block is a chain of
	// one; a post-processors block is one chain.
	PostProcessors [][]*PostProcessor
	// Strategy is the build's image strategy: StrategyFull,
	// StrategyHybrid, StrategyOSOnly, or "" (bake everything, as Packer).
	Strategy  string
	DeclRange hcl.Range
}

// SourceUse is one source as used by a build, with overrides applied.
type SourceUse struct {
	Source *Source
	Name   string // the use name (source name unless overridden)
	Config registry.Config
	// Strategy overrides the build's strategy for this use ("" keeps it).
	Strategy  string
	DeclRange hcl.Range
}

// Type returns the builder type, e.g. amazon-ebs.
func (u *SourceUse) Type() string { return u.Source.Type }

// UseName returns "<type>.<name>", the name only/except refer to.
func (u *SourceUse) UseName() string { return u.Source.Type + "." + u.Name }

// FullName returns "<build>.<type>.<name>" (or "<type>.<name>" for an
// unnamed build), the name shown in progress output and matched by -only.
func (u *SourceUse) FullName(b *Build) string {
	if b.Name == "" {
		return u.UseName()
	}
	return b.Name + "." + u.UseName()
}

// Provisioner is a provisioner block of a build. Configs holds the
// configuration decoded for each source use (overrides may differ).
type Provisioner struct {
	Type        string
	Name        string
	Component   registry.Component
	PauseBefore time.Duration
	MaxRetries  int
	Timeout     time.Duration
	Only        []string
	Except      []string
	// Layer is the layer the provisioner belongs to: LayerOS,
	// LayerPrereqs, LayerApp, or "" (none named).
	Layer     string
	Configs   map[string]registry.Config // by SourceUse.UseName()
	DeclRange hcl.Range
	body      hcl.Body // the block's body, to check what it sets when deferred
}

// AppliesTo reports whether the provisioner runs for the given source use.
func (p *Provisioner) AppliesTo(use string) bool { return applies(p.Only, p.Except, use) }

// PostProcessor is a post-processor block of a build.
type PostProcessor struct {
	Type              string
	Name              string
	Component         registry.Component
	Only              []string
	Except            []string
	KeepInputArtifact bool
	Config            registry.Config
	DeclRange         hcl.Range
}

// AppliesTo reports whether the post-processor runs for the given source use.
func (p *PostProcessor) AppliesTo(use string) bool { return applies(p.Only, p.Except, use) }

func applies(only, except []string, use string) bool {
	if len(only) > 0 {
		for _, o := range only {
			if o == use {
				return true
			}
		}
		return false
	}
	for _, e := range except {
		if e == use {
			return false
		}
	}
	return true
}
