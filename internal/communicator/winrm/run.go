package winrm

import (
	"context"

	"github.com/imgbuild/imgbuild/internal/provision"
)

// Run runs cmd.Command in a new cmd.exe shell on the instance and returns
// its exit status. A non-zero status is not an error: err reports
// transport failures only. Output is copied to cmd.Stdout and cmd.Stderr
// (nil discards) as it arrives; cmd.Stdin, when set, is sent to the
// command until EOF, and Run returns only after its current Read has
// returned. When ctx is done Run terminates the remote command and
// returns ctx's error. When the connection is lost (for example the
// command restarted the instance) the error matches [ErrDisconnected].
//
// To run PowerShell, send "powershell.exe -EncodedCommand <base64>" (see
// masterzen/winrm's Powershell), which avoids cmd.exe's quoting rules.
func (c *Client) Run(ctx context.Context, cmd *provision.Cmd) (int, error) {
	status := -1
	c.log.Debug("winrm run", "addr", c.opts.addr())
	err := c.withShell(ctx, "run command", func(ctx context.Context, sh *shell) error {
		var err error
		status, err = sh.run(ctx, cmd.Command, cmd.Stdin, cmd.Stdout, cmd.Stderr)
		return err
	})
	if err != nil {
		return -1, err
	}
	return status, nil
}
