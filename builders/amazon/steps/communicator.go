package steps

import (
	"context"

	"github.com/imgbuild/imgbuild/internal/communicator/ssh"
	"github.com/imgbuild/imgbuild/internal/provision"
)

// sshComm adapts the SSH client to provision.Communicator: the file
// transfers and Reconnect are the client's own; Run converts the command.
type sshComm struct {
	*ssh.Client
}

var _ provision.Communicator = (*sshComm)(nil)

// Run runs cmd on the instance and returns its exit status.
func (c *sshComm) Run(ctx context.Context, cmd *provision.Cmd) (int, error) {
	return c.Client.Run(ctx, ssh.Cmd{Command: cmd.Command, Stdin: cmd.Stdin, Stdout: cmd.Stdout, Stderr: cmd.Stderr})
}
