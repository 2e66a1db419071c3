package dag

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/go-multierror"
)

// ErrUnknownDependency is wrapped by the error Validate returns when a node
// depends on an id that was never added.
var ErrUnknownDependency = errors.New("unknown dependency")

// ErrCycle is wrapped by the error Validate returns when the dependencies
// form a cycle; the message names the nodes on the cycle in order.
var ErrCycle = errors.New("dependency cycle")

// Graph is a set of nodes and the dependencies between them. Build it with
// New and Add, check it with Validate, then run it with Walk. A Graph is not
// safe for concurrent mutation; Walk only reads it, so several walks of a
// graph that is no longer being changed may run at once.
type Graph struct {
	ids      []string // insertion order, the tie-breaker of Order
	vertices map[string]*vertex
}

type vertex struct {
	id    string
	group string
	node  Node
	deps  []string
}

// New returns an empty graph.
func New() *Graph {
	return &Graph{vertices: make(map[string]*vertex)}
}

// Add adds node n under id, in group (the build it belongs to), depending on
// the nodes deps. Dependencies may name nodes added later; Validate checks
// that they all exist. Repeated dependencies are ignored. Add returns an
// error for an empty or duplicate id and for a nil node.
func (g *Graph) Add(id, group string, n Node, deps ...string) error {
	switch {
	case id == "":
		return errors.New("add node: empty id")
	case n == nil:
		return fmt.Errorf("add node %q: nil node", id)
	case g.vertices[id] != nil:
		return fmt.Errorf("add node %q: duplicate id", id)
	}
	var uniq []string
	for _, d := range deps {
		if !slices.Contains(uniq, d) {
			uniq = append(uniq, d)
		}
	}
	g.ids = append(g.ids, id)
	g.vertices[id] = &vertex{id: id, group: group, node: n, deps: uniq}
	return nil
}

// Deps returns the ids node id depends on, in the order they were given to
// Add, or nil for an unknown id. The caller may modify the returned slice.
func (g *Graph) Deps(id string) []string {
	if v := g.vertices[id]; v != nil {
		return slices.Clone(v.deps)
	}
	return nil
}

// Group returns the group of node id, or "" for an unknown id.
func (g *Graph) Group(id string) string {
	if v := g.vertices[id]; v != nil {
		return v.group
	}
	return ""
}

// Validate reports every dependency on an unknown node (wrapping
// ErrUnknownDependency) and the first dependency cycle found (wrapping
// ErrCycle, naming the cycle as "a -> b -> a"). It returns nil for a graph
// Walk can run.
func (g *Graph) Validate() error {
	var merr *multierror.Error
	for _, id := range g.ids {
		for _, d := range g.vertices[id].deps {
			if g.vertices[d] == nil {
				merr = multierror.Append(merr, fmt.Errorf("%w: node %q depends on %q, which does not exist", ErrUnknownDependency, id, d))
			}
		}
	}
	if cycle := g.findCycle(); cycle != nil {
		merr = multierror.Append(merr, fmt.Errorf("%w: %s", ErrCycle, strings.Join(cycle, " -> ")))
	}
	return merr.ErrorOrNil()
}

// findCycle returns the first cycle found by a depth-first search in
// insertion order, as a path that starts and ends with the same id, or nil.
func (g *Graph) findCycle() []string {
	const (
		unvisited = iota
		onPath
		finished
	)
	state := make(map[string]int, len(g.ids))
	var path []string
	var visit func(id string) []string
	visit = func(id string) []string {
		state[id] = onPath
		path = append(path, id)
		for _, d := range g.vertices[id].deps {
			switch {
			case g.vertices[d] == nil:
				continue // reported as an unknown dependency
			case state[d] == onPath:
				start := slices.Index(path, d)
				return append(slices.Clone(path[start:]), d)
			case state[d] == unvisited:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[id] = finished
		return nil
	}
	for _, id := range g.ids {
		if state[id] == unvisited {
			if c := visit(id); c != nil {
				return c
			}
		}
	}
	return nil
}

// Order returns every node id in a deterministic topological order: a node
// comes after all its dependencies, and among nodes whose dependencies are
// all placed, the one added first comes first. It is the order of the plan a
// user sees and of Result.Outcomes. Unknown dependencies are ignored; nodes
// on or behind a cycle (which Validate rejects) come last, in insertion order.
func (g *Graph) Order() []string {
	waiting, dependents := g.edges(g.ids)
	var ready []int
	for i := range g.ids {
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	order := make([]string, 0, len(g.ids))
	placed := make([]bool, len(g.ids))
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		order = append(order, g.ids[i])
		placed[i] = true
		for _, j := range dependents[i] {
			if waiting[j]--; waiting[j] == 0 {
				ready = insertSorted(ready, j)
			}
		}
	}
	for i, id := range g.ids {
		if !placed[i] {
			order = append(order, id)
		}
	}
	return order
}

// edges indexes the dependencies of the nodes ids by position in ids:
// waiting[i] counts the known dependencies of ids[i], and dependents[i]
// lists the positions of the nodes that depend on ids[i], ascending.
func (g *Graph) edges(ids []string) (waiting []int, dependents [][]int) {
	pos := make(map[string]int, len(ids))
	for i, id := range ids {
		pos[id] = i
	}
	waiting = make([]int, len(ids))
	dependents = make([][]int, len(ids))
	for i, id := range ids {
		for _, d := range g.vertices[id].deps {
			if j, ok := pos[d]; ok {
				waiting[i]++
				dependents[j] = append(dependents[j], i)
			}
		}
	}
	return waiting, dependents
}

// insertSorted inserts v into the ascending slice s, keeping it ascending.
func insertSorted(s []int, v int) []int {
	i, _ := slices.BinarySearch(s, v)
	return slices.Insert(s, i, v)
}
