package dag

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestAddRejectsBadNodes(t *testing.T) {
	n := &step{id: "x", rec: newRecorder()}
	tests := []struct {
		name    string
		id      string
		node    Node
		wantErr string
	}{
		{"duplicate id", "a", n, `add node "a": duplicate id`},
		{"empty id", "", n, "add node: empty id"},
		{"nil node", "b", nil, `add node "b": nil node`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New()
			if err := g.Add("a", "build", n); err != nil {
				t.Fatal(err)
			}
			err := g.Add(tt.id, "build", tt.node)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("Add(%q) = %v, want %q", tt.id, err, tt.wantErr)
			}
			if got := g.Order(); !slices.Equal(got, []string{"a"}) {
				t.Errorf("rejected node was added: Order() = %q", got)
			}
		})
	}
}

func TestDepsAndGroup(t *testing.T) {
	g := New()
	n := &step{id: "x", rec: newRecorder()}
	for _, err := range []error{
		g.Add("a", "web", n),
		g.Add("b", "db", n),
		g.Add("c", "web", n, "b", "a", "b"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	deps := g.Deps("c")
	if want := []string{"b", "a"}; !slices.Equal(deps, want) {
		t.Fatalf(`Deps("c") = %q, want %q (given order, duplicates dropped)`, deps, want)
	}
	deps[0] = "changed"
	if got := g.Deps("c")[0]; got != "b" {
		t.Errorf("Deps returned the graph's own slice: after change, Deps(c)[0] = %q", got)
	}
	if got := g.Deps("nope"); got != nil {
		t.Errorf(`Deps("nope") = %q, want nil`, got)
	}
	for id, want := range map[string]string{"a": "web", "b": "db", "c": "web", "nope": ""} {
		if got := g.Group(id); got != want {
			t.Errorf("Group(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	type node struct {
		id   string
		deps []string
	}
	tests := []struct {
		name        string
		nodes       []node
		wantErrs    []string // substrings, one per aggregated error
		wantUnknown bool
		wantCycle   bool
	}{
		{
			name:  "valid diamond",
			nodes: []node{{"a", nil}, {"b", []string{"a"}}, {"c", []string{"a"}}, {"d", []string{"b", "c"}}},
		},
		{
			name:        "unknown dependencies",
			nodes:       []node{{"a", []string{"x"}}, {"b", []string{"a", "y"}}},
			wantErrs:    []string{`unknown dependency: node "a" depends on "x", which does not exist`, `unknown dependency: node "b" depends on "y", which does not exist`},
			wantUnknown: true,
		},
		{
			name:      "self dependency",
			nodes:     []node{{"a", []string{"a"}}},
			wantErrs:  []string{"dependency cycle: a -> a"},
			wantCycle: true,
		},
		{
			name:      "cycle behind a root",
			nodes:     []node{{"root", nil}, {"b", []string{"root", "d"}}, {"c", []string{"b"}}, {"d", []string{"c"}}},
			wantErrs:  []string{"dependency cycle: b -> d -> c -> b"},
			wantCycle: true,
		},
		{
			name:        "unknown dependency and cycle",
			nodes:       []node{{"a", []string{"b", "ghost"}}, {"b", []string{"a"}}},
			wantErrs:    []string{`node "a" depends on "ghost"`, "dependency cycle: a -> b -> a"},
			wantUnknown: true,
			wantCycle:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New()
			for _, n := range tt.nodes {
				if err := g.Add(n.id, "build", &step{id: n.id, rec: newRecorder()}, n.deps...); err != nil {
					t.Fatal(err)
				}
			}
			err := g.Validate()
			if tt.wantErrs == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			wrapped := err.(interface{ WrappedErrors() []error }).WrappedErrors()
			if len(wrapped) != len(tt.wantErrs) {
				t.Fatalf("Validate() has %d errors, want %d: %v", len(wrapped), len(tt.wantErrs), err)
			}
			for i, want := range tt.wantErrs {
				if !strings.Contains(wrapped[i].Error(), want) {
					t.Errorf("error %d = %q, want it to contain %q", i, wrapped[i], want)
				}
			}
			if errors.Is(err, ErrUnknownDependency) != tt.wantUnknown || errors.Is(err, ErrCycle) != tt.wantCycle {
				t.Errorf("errors.Is(err, ErrUnknownDependency/ErrCycle) = %v/%v, want %v/%v",
					errors.Is(err, ErrUnknownDependency), errors.Is(err, ErrCycle), tt.wantUnknown, tt.wantCycle)
			}
		})
	}
}

func TestOrder(t *testing.T) {
	type node struct {
		id   string
		deps []string
	}
	tests := []struct {
		name  string
		nodes []node
		want  []string
	}{
		{
			name:  "independent nodes keep insertion order",
			nodes: []node{{"c", nil}, {"a", nil}, {"b", nil}},
			want:  []string{"c", "a", "b"},
		},
		{
			name:  "dependency added later comes first",
			nodes: []node{{"app", []string{"db"}}, {"db", nil}},
			want:  []string{"db", "app"},
		},
		{
			name: "ready nodes by insertion order",
			nodes: []node{
				{"b1.launch", nil}, {"b1.image", []string{"b1.launch"}}, {"b2.launch", nil},
				{"b1.copy", []string{"b1.image"}}, {"b2.image", []string{"b2.launch"}},
			},
			want: []string{"b1.launch", "b1.image", "b2.launch", "b1.copy", "b2.image"},
		},
		{
			name:  "diamond",
			nodes: []node{{"d", []string{"b", "c"}}, {"c", []string{"a"}}, {"b", []string{"a"}}, {"a", nil}},
			want:  []string{"a", "c", "b", "d"},
		},
		{
			name:  "cycle members last",
			nodes: []node{{"x", []string{"y"}}, {"y", []string{"x"}}, {"z", nil}, {"w", []string{"x"}}},
			want:  []string{"z", "x", "y", "w"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New()
			for _, n := range tt.nodes {
				if err := g.Add(n.id, "build", &step{id: n.id, rec: newRecorder()}, n.deps...); err != nil {
					t.Fatal(err)
				}
			}
			for range 3 { // deterministic, not map order
				if got := g.Order(); !slices.Equal(got, tt.want) {
					t.Fatalf("Order() = %q, want %q", got, tt.want)
				}
			}
		})
	}
}
