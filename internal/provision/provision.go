// Package provision is the contract between a builder and the provisioners
// it runs on a build instance: what a provisioner receives (a connection to
// the instance, an output stream, the build's placeholder data) and the
// method it implements.
package provision

import (
	"context"
	"io"
	"os"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/interpolate"
)

// Provisioner is implemented by the Config of every provisioner component.
// Provision does the provisioner's work once; the builder handles
// pause_before, max_retries and timeout around it.
type Provisioner interface {
	Provision(ctx context.Context, env *Env) error
}

// Env is what a provisioner works with.
type Env struct {
	// Comm is the connection to the build instance; nil when the source
	// uses communicator = "none".
	Comm Communicator
	// Out receives the provisioner's progress and the output of the
	// commands it runs; the builder prefixes it with the build name.
	Out io.Writer
	// Data renders Packer's legacy {{ .SourceAMI }}-style placeholders.
	Data interpolate.Data
	// BuildName is the full build name, e.g. base.amazon-ebs.al2023.
	BuildName string
	// BuilderType is the source type, e.g. amazon-ebs.
	BuilderType string
	// BaseDir is the template directory; relative paths resolve against it.
	BaseDir string
	// Logger is the developer log.
	Logger hclog.Logger
}

// Cmd is a command to run on the build instance.
type Cmd struct {
	Command string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
}

// Runner runs commands on the instance. A non-zero exit status is not an
// error; err reports transport failures (ErrDisconnected among them).
type Runner interface {
	Run(ctx context.Context, cmd *Cmd) (exitStatus int, err error)
}

// Uploader copies local files and directories to the instance. UploadDir
// follows rsync's trailing-slash rule: "src/" copies the contents of src,
// "src" copies the directory itself into dst.
type Uploader interface {
	Upload(ctx context.Context, dst string, r io.Reader, mode os.FileMode) error
	UploadDir(ctx context.Context, dst, src string) error
}

// Downloader copies files and directories from the instance.
type Downloader interface {
	Download(ctx context.Context, src string, w io.Writer) error
	DownloadDir(ctx context.Context, src, dst string) error
}

// Reconnecter re-establishes the connection after an expected disconnect
// such as a reboot.
type Reconnecter interface {
	Reconnect(ctx context.Context) error
}

// Communicator is everything a builder's connection offers.
type Communicator interface {
	Runner
	Uploader
	Downloader
	Reconnecter
}
