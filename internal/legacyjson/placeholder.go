package legacyjson

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template/parse"

	"github.com/hashicorp/hcl/v2"
)

// parseErrPrefix is the "template: NAME:LINE: " text/template puts
// before its errors.
var parseErrPrefix = regexp.MustCompile(`^template: string:\d+:(\d+:)? `)

// placeholders matches {{ ... }}, to drop them from a string that cannot
// be parsed.
var placeholders = regexp.MustCompile(`\{\{.*?\}\}`)

// where says which part of a template a string is in: what a placeholder
// may turn into depends on it.
type where int

const (
	inVariable where = iota // a variable's default
	inSource                // a builder
	inBuild                 // a provisioner or post-processor
	inLiteral               // taken as is (description)
)

// runtimeFuncs are the legacy functions imgbuild's components still
// interpolate when a build runs ({{ ... }} left in a string), as Packer's
// amazon components do.
var runtimeFuncs = map[string]bool{
	"timestamp": true, "isotime": true, "uuid": true, "build_name": true, "build_type": true,
	"clean_resource_name": true, "lower": true, "upper": true, "replace": true, "replace_all": true,
	"split": true, "packer_version": true, "strftime": true,
}

// unsupportedFuncs are legacy functions imgbuild does not offer.
var unsupportedFuncs = map[string]string{
	"aws_secretsmanager":     "imgbuild does not read secret stores",
	"aws_secretsmanager_raw": "imgbuild does not read secret stores",
	"vault":                  "imgbuild does not read secret stores",
	"consul_key":             "imgbuild does not read Consul",
	"sed":                    "sed was removed from Packer's template engine",
	"data":                   "legacy templates have no data sources",
}

// parseFuncs lists every name the parser must accept as a function; what
// each may do is decided when the string is converted.
func parseFuncs() map[string]any {
	m := map[string]any{}
	for _, n := range []string{"user", "env", "template_dir", "pwd", "build"} {
		m[n] = true
	}
	for n := range runtimeFuncs {
		m[n] = true
	}
	for n := range unsupportedFuncs {
		m[n] = true
	}
	return m
}

// convertString turns a legacy string into an HCL expression: a bare
// expression when the string is one placeholder, else a quoted template.
func (c *converter) convertString(s string, rng hcl.Range, w where) string {
	if w == inLiteral || !strings.Contains(s, "{{") {
		return quote(s)
	}
	trees, err := parse.Parse("string", s, "{{", "}}", parseFuncs())
	if err != nil {
		msg := parseErrPrefix.ReplaceAllString(err.Error(), "")
		c.errorf(rng, "Invalid template placeholder", "%q: %s.", s, msg)
		return quote(placeholders.ReplaceAllString(s, ""))
	}
	nodes := trees["string"].Root.Nodes
	var parts []string // each either a literal (escaped) or "${expr}"
	var bare string
	for _, nd := range nodes {
		switch nd := nd.(type) {
		case *parse.TextNode:
			parts = append(parts, escape(string(nd.Text)))
		case *parse.ActionNode:
			expr, st := c.action(nd, rng, w)
			switch st {
			case kept:
				parts = append(parts, escape(nd.String()))
				continue
			case failed: // reported; left out so it is not reported again
				continue
			}
			bare = expr
			if strings.HasPrefix(expr, `"`) { // a literal
				parts = append(parts, expr[1:len(expr)-1])
				continue
			}
			parts = append(parts, "${"+expr+"}")
		default:
			c.errorf(rng, "Invalid template placeholder", "%q: only {{ function args }} placeholders are supported, not control structures.", nd.String())
			return quote(placeholders.ReplaceAllString(s, ""))
		}
	}
	if len(nodes) == 1 && bare != "" {
		return bare
	}
	return `"` + strings.Join(parts, "") + `"`
}

// status says what became of a placeholder.
type status int

const (
	converted status = iota
	kept             // left as written for the component, which fills it in when the build runs
	failed           // reported
)

// action converts one {{ ... }} to an HCL expression. One reading the
// build's data ({{ .SourceAMIName }}) is kept as written.
func (c *converter) action(nd *parse.ActionNode, rng hcl.Range, w where) (string, status) {
	if len(nd.Pipe.Decl) > 0 {
		c.errorf(rng, "Invalid template placeholder", "%s: variable declarations are not supported.", nd)
		return "", failed
	}
	if hasField(nd) {
		return "", c.keepRuntime(nd, rng)
	}
	e, ok := c.pipe(nd.Pipe, nd, rng, w)
	if !ok {
		return "", failed
	}
	return e.expr, converted
}

// arg is a converted argument: its HCL expression, and its text when it
// is a string literal.
type arg struct {
	expr, lit string
	isLit     bool
}

// pipe converts a pipeline: each command is a call whose last argument is
// the previous command's result.
func (c *converter) pipe(p *parse.PipeNode, nd *parse.ActionNode, rng hcl.Range, w where) (arg, bool) {
	var prev *arg
	for _, cmd := range p.Cmds {
		id, isIdent := cmd.Args[0].(*parse.IdentifierNode)
		if !isIdent {
			c.errorf(rng, "Invalid template placeholder", "%s: %s is not a function.", nd, cmd.Args[0])
			return arg{}, false
		}
		var args []arg
		for _, a := range cmd.Args[1:] {
			switch a := a.(type) {
			case *parse.StringNode:
				args = append(args, arg{expr: quote(a.Text), lit: a.Text, isLit: true})
			case *parse.NumberNode:
				args = append(args, arg{expr: a.Text})
			case *parse.PipeNode:
				v, ok := c.pipe(a, nd, rng, w)
				if !ok {
					return arg{}, false
				}
				args = append(args, v)
			default:
				c.errorf(rng, "Invalid template placeholder", "%s: unsupported argument %s.", nd, a)
				return arg{}, false
			}
		}
		if prev != nil {
			args = append(args, *prev)
		}
		v, ok := c.call(id.Ident, args, nd, rng, w)
		if !ok {
			return arg{}, false
		}
		prev = &v
	}
	return *prev, true
}

// cleanPattern matches the characters clean_resource_name replaces: all
// but those an AMI name allows.
const cleanPattern = `"[^a-zA-Z0-9()\\[\\] ./'@_-]"`

// call converts one legacy function call to HCL, as hcl2_upgrade does
// where it can, and with HCL functions of the same meaning otherwise.
func (c *converter) call(name string, args []arg, nd *parse.ActionNode, rng hcl.Range, w where) (arg, bool) {
	if why, bad := unsupportedFuncs[name]; bad {
		c.errorf(rng, "Unsupported template function", "%s: %s.", nd, why)
		return arg{}, false
	}
	argc := func(want ...int) bool {
		for _, n := range want {
			if len(args) == n {
				return true
			}
		}
		c.errorf(rng, "Invalid template placeholder", "%s: %s takes %s argument(s), got %d.", nd, name, joinInts(want), len(args))
		return false
	}
	literal := func(i int) bool {
		if !args[i].isLit {
			c.errorf(rng, "Invalid template placeholder", "%s: %s takes a quoted name.", nd, name)
		}
		return args[i].isLit
	}
	expr := func(e string, ok bool) (arg, bool) { return arg{expr: e}, ok }
	switch name {
	case "user":
		if !argc(1) || !literal(0) {
			return arg{}, false
		}
		c.useVar(args[0].lit, rng)
		if c.locals[args[0].lit] {
			return expr("local."+args[0].lit, true)
		}
		return expr("var."+args[0].lit, true)
	case "env":
		if !argc(1) || !literal(0) {
			return arg{}, false
		}
		if w != inVariable {
			c.errorf(rng, "env not allowed here", "%s: as in Packer, env can only be used in a variable's default; declare a variable with \"{{env `%s`}}\" as its default and use {{user `...`}}.", nd, args[0].lit)
			return arg{}, false
		}
		return expr("env("+args[0].expr+")", true)
	case "timestamp":
		c.timestamp = true
		return expr("local.timestamp", argc(0))
	case "isotime":
		if len(args) == 0 {
			return expr("timestamp()", true)
		}
		return expr("legacy_isotime("+args[0].expr+")", argc(1))
	case "strftime":
		if !argc(1) {
			return arg{}, false
		}
		return expr("legacy_strftime("+args[0].expr+")", true)
	case "uuid":
		return expr("uuidv4()", argc(0))
	case "template_dir":
		return expr("path.root", argc(0))
	case "pwd":
		return expr("path.cwd", argc(0))
	case "packer_version":
		return expr("packer.version", argc(0))
	case "build_name", "build_type":
		if !argc(0) {
			return arg{}, false
		}
		if w == inSource && c.current != nil {
			// The legacy build's name and type are the builder's.
			v := c.current.legacyName
			if name == "build_type" {
				v = c.current.typ
			}
			return arg{expr: quote(v), lit: v, isLit: true}, true
		}
		if w != inBuild {
			c.errorf(rng, name+" not allowed here", "%s: the build's name exists only in builders, provisioners and post-processors.", nd)
			return arg{}, false
		}
		// The legacy build name is the builder's, which is the source's.
		return expr("source."+strings.TrimPrefix(name, "build_"), true)
	case "build":
		if !argc(1) || !literal(0) {
			return arg{}, false
		}
		if w != inBuild {
			c.errorf(rng, "build not allowed here", "%s: build values exist only in provisioners and post-processors.", nd)
			return arg{}, false
		}
		return expr("build."+args[0].lit, true)
	case "lower", "upper":
		return expr(name+"("+first(args).expr+")", argc(1))
	case "clean_resource_name":
		return expr("regex_replace("+first(args).expr+", "+cleanPattern+", \"-\")", argc(1))
	case "replace_all":
		if !argc(3) {
			return arg{}, false
		}
		return expr(fmt.Sprintf("replace(%s, %s, %s)", args[2].expr, args[0].expr, args[1].expr), true)
	case "replace":
		if !argc(4) {
			return arg{}, false
		}
		if args[2].expr != "-1" {
			c.errorf(rng, "Unsupported template placeholder", "%s: replace with a count other than -1 has no HCL equivalent; use replace_all.", nd)
			return arg{}, false
		}
		return expr(fmt.Sprintf("replace(%s, %s, %s)", args[3].expr, args[0].expr, args[1].expr), true)
	case "split":
		if !argc(3) {
			return arg{}, false
		}
		return expr(fmt.Sprintf("element(split(%s, %s), %s)", args[1].expr, args[0].expr, args[2].expr), true)
	}
	c.errorf(rng, "Invalid template placeholder", "%s: unknown function %q.", nd, name)
	return arg{}, false
}

// hasField reports whether an action reads the build's data ({{ .Name }}).
func hasField(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.ActionNode:
		return hasField(n.Pipe)
	case *parse.PipeNode:
		for _, cmd := range n.Cmds {
			if hasField(cmd) {
				return true
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if hasField(a) {
				return true
			}
		}
	case *parse.FieldNode, *parse.DotNode, *parse.ChainNode, *parse.VariableNode:
		return true
	}
	return false
}

// keepRuntime checks that an action kept as written uses only functions
// the components interpolate when the build runs.
func (c *converter) keepRuntime(nd *parse.ActionNode, rng hcl.Range) status {
	st := kept
	walkIdentifiers(nd, func(name string) {
		if !runtimeFuncs[name] && st == kept {
			c.errorf(rng, "Unsupported template placeholder", "%s: %s cannot be combined with the build's data ({{ .Name }}).", nd, name)
			st = failed
		}
	})
	return st
}

func walkIdentifiers(n parse.Node, fn func(string)) {
	switch n := n.(type) {
	case *parse.ActionNode:
		walkIdentifiers(n.Pipe, fn)
	case *parse.PipeNode:
		for _, cmd := range n.Cmds {
			walkIdentifiers(cmd, fn)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walkIdentifiers(a, fn)
		}
	case *parse.IdentifierNode:
		fn(n.Ident)
	}
}

func first(s []arg) arg {
	if len(s) == 0 {
		return arg{}
	}
	return s[0]
}

func joinInts(ns []int) string {
	var s []string
	for _, n := range ns {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, " or ")
}

// escape escapes s for an HCL quoted template.
func escape(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		case (r == '$' || r == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteRune(r)
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// quote returns s as an HCL string literal.
func quote(s string) string { return `"` + escape(s) + `"` }
