package registry

import (
	"github.com/imgbuild/imgbuild/builders/amazon/ebs"
	"github.com/imgbuild/imgbuild/builders/amazon/ebssurrogate"
	"github.com/imgbuild/imgbuild/builders/amazon/instance"
	"github.com/imgbuild/imgbuild/hcl2spec"
	"github.com/imgbuild/imgbuild/internal/datasource/amazonami"
	httpdata "github.com/imgbuild/imgbuild/internal/datasource/http"
	"github.com/imgbuild/imgbuild/internal/datasource/parameterstore"
	"github.com/imgbuild/imgbuild/postprocessors/launchtemplate"
	"github.com/imgbuild/imgbuild/postprocessors/manifest"
	"github.com/imgbuild/imgbuild/postprocessors/retention"
	ppshelllocal "github.com/imgbuild/imgbuild/postprocessors/shelllocal"
	"github.com/imgbuild/imgbuild/postprocessors/ssmparameter"
	"github.com/imgbuild/imgbuild/provisioners/file"
	"github.com/imgbuild/imgbuild/provisioners/powershell"
	"github.com/imgbuild/imgbuild/provisioners/shell"
	"github.com/imgbuild/imgbuild/provisioners/shelllocal"
	"github.com/imgbuild/imgbuild/provisioners/sysprep"
	"github.com/imgbuild/imgbuild/provisioners/windowsrestart"
	"github.com/imgbuild/imgbuild/provisioners/windowsshell"
)

// components is the table of every component. Each entry names its kind,
// HCL type, generated spec (package hcl2spec) and Config constructor.
var components = []Component{
	{Kind: Builder, Type: "amazon-ebs", Spec: hcl2spec.AmazonEBS, New: func() Config { return new(ebs.Config) }, Builder: ebs.Builder{}},
	{Kind: Builder, Type: "amazon-instance", Spec: hcl2spec.AmazonInstance, New: func() Config { return new(instance.Config) }, Builder: instance.Builder{}},
	{Kind: Builder, Type: "amazon-ebssurrogate", Spec: hcl2spec.AmazonEBSSurrogate, New: func() Config { return new(ebssurrogate.Config) }, Builder: ebssurrogate.Builder{}},

	{Kind: Provisioner, Type: "shell", Spec: hcl2spec.Shell, New: func() Config { return new(shell.Config) }},
	{Kind: Provisioner, Type: "file", Spec: hcl2spec.File, New: func() Config { return new(file.Config) }},
	{Kind: Provisioner, Type: "shell-local", Spec: hcl2spec.ShellLocal, New: func() Config { return new(shelllocal.Config) }},
	{Kind: Provisioner, Type: "powershell", Spec: hcl2spec.PowerShell, New: func() Config { return new(powershell.Config) }},
	{Kind: Provisioner, Type: "windows-restart", Spec: hcl2spec.WindowsRestart, New: func() Config { return new(windowsrestart.Config) }},
	{Kind: Provisioner, Type: "windows-shell", Spec: hcl2spec.WindowsShell, New: func() Config { return new(windowsshell.Config) }},
	{Kind: Provisioner, Type: "sysprep", Spec: hcl2spec.Sysprep, New: func() Config { return new(sysprep.Config) }},

	{Kind: PostProcessor, Type: "manifest", Spec: hcl2spec.Manifest, New: func() Config { return new(manifest.Config) }},
	{Kind: PostProcessor, Type: "shell-local", Spec: hcl2spec.ShellLocalPostProcessor, New: func() Config { return new(ppshelllocal.Config) }},
	{Kind: PostProcessor, Type: "amazon-ssm-parameter", Spec: hcl2spec.AmazonSSMParameter, New: func() Config { return new(ssmparameter.Config) }},
	{Kind: PostProcessor, Type: "amazon-launch-template", Spec: hcl2spec.AmazonLaunchTemplate, New: func() Config { return new(launchtemplate.Config) }},
	{Kind: PostProcessor, Type: "retention", Spec: hcl2spec.Retention, New: func() Config { return new(retention.Config) }},

	{Kind: DataSource, Type: "amazon-ami", Spec: hcl2spec.AmazonAMI, New: func() Config { return new(amazonami.Config) }, Output: amazonami.OutputType},
	{Kind: DataSource, Type: "amazon-parameterstore", Spec: hcl2spec.AmazonParameterStore, New: func() Config { return new(parameterstore.Config) }, Output: parameterstore.OutputType},
	{Kind: DataSource, Type: "http", Spec: hcl2spec.HTTP, New: func() Config { return new(httpdata.Config) }, Output: httpdata.OutputType},
}
