package ebs_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/dag"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/plan"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/internal/template"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// startCloud starts an instant local cloud with SSH and points the AWS
// environment variables at it for the rest of the test.
func startCloud(t *testing.T, failImages string) *localcloud.Cloud {
	t.Helper()
	s, err := localcloud.ProfileSettings(localcloud.Instant)
	if err != nil {
		t.Fatal(err)
	}
	s.SSH, s.FailImages = true, failImages
	testenv.Require(t, testenv.Root) // sshd on port 22 of each instance address
	cloud := testenv.LocalCloud(t, s)
	for _, kv := range cloud.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return cloud
}

// walked is the outcome of one build walk.
type walked struct {
	build     builder.Build
	runID     string
	buildName string
	result    *dag.Result
	run       *journal.Run
	out       *bytes.Buffer
}

// walkTemplate writes the template text to a directory, loads and plans
// it, and walks its one build with the nodes of the builder the registry
// names for it (this package's). Provision steps
// run `echo hi > f` over the build's communicator; post-processors are
// skipped.
func walkTemplate(t *testing.T, text string) walked {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "build.pkr.hcl")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	tpl, diags := template.Load(path, template.Options{})
	if diags.HasErrors() {
		t.Fatalf("load template: %s", diags.Error())
	}
	p, err := plan.New(tpl, plan.Selection{})
	if err != nil {
		t.Fatal(err)
	}
	bp := p.Builds[0]
	jw, err := journal.Create(t.TempDir(), journal.Header{Template: path})
	if err != nil {
		t.Fatal(err)
	}
	out := &bytes.Buffer{}
	env := &builder.Env{
		RunID: jw.RunID(), BuildName: bp.Name, Journal: jw, Out: out, Logger: testenv.Logger(t),
		BaseDir: dir, Now: time.Now().UTC(), AddSecret: func(string) {},
		Say: func(format string, args ...any) { t.Logf("==> %s: %s", bp.Name, fmt.Sprintf(format, args...)) },
	}
	ctx := context.Background()
	bld, err := bp.Use.Source.Component.Builder.Start(ctx, env, bp.Use.Config)
	if err != nil {
		t.Fatal(err)
	}
	g := dag.New()
	for _, step := range bp.Steps {
		var n dag.Node
		switch step.Kind {
		case plan.PostProcess:
			continue
		case plan.Provision:
			n = &echoNode{b: bld, out: out}
		default:
			if n, err = bld.Node(&step.Step); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.Add(step.ID, bp.Name, n, step.Deps...); err != nil {
			t.Fatal(err)
		}
	}
	res := g.Walk(ctx, dag.Options{CleanupTimeout: time.Minute, Logger: testenv.Logger(t)})
	if err := jw.Close(); err != nil {
		t.Fatal(err)
	}
	run, err := journal.Read(jw.Path())
	if err != nil {
		t.Fatal(err)
	}
	return walked{build: bld, runID: jw.RunID(), buildName: bp.Name, result: res, run: run, out: out}
}

// echoNode is a stand-in provisioner: it writes and reads back a file on
// the instance through the build's communicator.
type echoNode struct {
	b   builder.Build
	out *bytes.Buffer
}

func (n *echoNode) Run(ctx context.Context) error {
	comm := n.b.Communicator()
	if comm == nil {
		return fmt.Errorf("no communicator")
	}
	var stdout bytes.Buffer
	status, err := comm.Run(ctx, &provision.Cmd{Command: "echo hi > f && cat f", Stdout: &stdout, Stderr: n.out})
	if err != nil || status != 0 || strings.TrimSpace(stdout.String()) != "hi" {
		return fmt.Errorf("echo hi > f: status %d, output %q, %v", status, stdout.String(), err)
	}
	return nil
}

// ec2In returns an EC2 client for region of the local cloud.
func ec2In(cloud *localcloud.Cloud, region string) *ec2.Client {
	return ec2.NewFromConfig(testenv.AWSConfig(cloud.URL(), region))
}
