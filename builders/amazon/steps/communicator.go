package steps

import (
	"context"

	"github.com/imgbuild/imgbuild/internal/communicator/ssh"
	"github.com/imgbuild/imgbuild/internal/provision"
)

// connection is the communicator a build holds: what provisioners use, and
// Close for the connect step's cleanup. The SSH and WinRM clients are both.
type connection interface {
	provision.Communicator
	Close() error
}

// sshComm adapts the SSH client to provision.Communicator: the file
// transfers and Reconnect are the client's own; Run converts the command.
type sshComm struct {
	*ssh.Client
}

var _ connection = (*sshComm)(nil)

// Run runs cmd on the instance and returns its exit status.
func (c *sshComm) Run(ctx context.Context, cmd *provision.Cmd) (int, error) {
	return c.Client.Run(ctx, ssh.Cmd{Command: cmd.Command, Stdin: cmd.Stdin, Stdout: cmd.Stdout, Stderr: cmd.Stderr})
}
