package runner

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/plan"
)

// postProcessStep runs one post-processor of a chain. The first of a
// chain receives the build's artifact; each passes its result on.
type postProcessStep struct {
	br   *buildRun
	step *plan.Step
}

// Run runs the post-processor.
func (p *postProcessStep) Run(ctx context.Context) error {
	pp := p.step.PostProcessor
	cfg, ok := pp.Config.(artifact.PostProcessor)
	if !ok {
		return fmt.Errorf("post-processor %s cannot run in this version", pp.Type)
	}
	chain := chainIndex(p.step.ID)
	p.br.mu.Lock()
	in := p.br.chains[chain]
	p.br.mu.Unlock()
	if in == nil {
		a, err := p.br.artifact()
		if err != nil {
			return err
		}
		in = a
	}
	p.br.env.Say("running post-processor %s%s", pp.Type, named(pp.Name))
	out, err := cfg.PostProcess(ctx, &artifact.Env{Out: p.br.env.Out, BaseDir: p.br.env.BaseDir, Logger: p.br.env.Logger, Now: p.br.env.Now}, in)
	if err != nil {
		return fmt.Errorf("post-processor %s%s: %w", pp.Type, named(pp.Name), err)
	}
	p.br.mu.Lock()
	p.br.chains[chain] = out
	p.br.mu.Unlock()
	return nil
}

// chainIndex reads the chain number from a step ID ".../post-process:C.N".
func chainIndex(id string) int {
	i := strings.LastIndex(id, ":")
	c, _, _ := strings.Cut(id[i+1:], ".")
	n, _ := strconv.Atoi(c)
	return n
}
