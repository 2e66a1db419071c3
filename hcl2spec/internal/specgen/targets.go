package specgen

import (
	"github.com/imgbuild/imgbuild/builders/amazon/ebs"
	"github.com/imgbuild/imgbuild/builders/amazon/ebssurrogate"
	"github.com/imgbuild/imgbuild/builders/amazon/instance"
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

// Targets lists every Config that has a generated spec. Adding a
// component means adding a line here and one in internal/registry.
func Targets() []Target {
	return []Target{
		{"AmazonEBS", "amazon_ebs.hcl2spec.go", `source "amazon-ebs"`, ebs.Config{}},
		{"AmazonInstance", "amazon_instance.hcl2spec.go", `source "amazon-instance"`, instance.Config{}},
		{"AmazonEBSSurrogate", "amazon_ebssurrogate.hcl2spec.go", `source "amazon-ebssurrogate"`, ebssurrogate.Config{}},
		{"Shell", "shell.hcl2spec.go", `provisioner "shell"`, shell.Config{}},
		{"File", "file.hcl2spec.go", `provisioner "file"`, file.Config{}},
		{"ShellLocal", "shell_local.hcl2spec.go", `provisioner "shell-local"`, shelllocal.Config{}},
		{"PowerShell", "powershell.hcl2spec.go", `provisioner "powershell"`, powershell.Config{}},
		{"WindowsRestart", "windows_restart.hcl2spec.go", `provisioner "windows-restart"`, windowsrestart.Config{}},
		{"WindowsShell", "windows_shell.hcl2spec.go", `provisioner "windows-shell"`, windowsshell.Config{}},
		{"Sysprep", "sysprep.hcl2spec.go", `provisioner "sysprep"`, sysprep.Config{}},
		{"Manifest", "manifest.hcl2spec.go", `post-processor "manifest"`, manifest.Config{}},
		{"ShellLocalPostProcessor", "shell_local_post_processor.hcl2spec.go", `post-processor "shell-local"`, ppshelllocal.Config{}},
		{"AmazonSSMParameter", "amazon_ssm_parameter.hcl2spec.go", `post-processor "amazon-ssm-parameter"`, ssmparameter.Config{}},
		{"AmazonLaunchTemplate", "amazon_launch_template.hcl2spec.go", `post-processor "amazon-launch-template"`, launchtemplate.Config{}},
		{"Retention", "retention.hcl2spec.go", `post-processor "retention"`, retention.Config{}},
		{"AmazonAMI", "amazon_ami.hcl2spec.go", `data "amazon-ami"`, amazonami.Config{}},
		{"AmazonParameterStore", "amazon_parameterstore.hcl2spec.go", `data "amazon-parameterstore"`, parameterstore.Config{}},
		{"HTTP", "http.hcl2spec.go", `data "http"`, httpdata.Config{}},
	}
}
