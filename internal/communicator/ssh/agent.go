package ssh

import (
	"os"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// forwardAgent makes client serve the instance's agent channels from the
// agent at $SSH_AUTH_SOCK, when Options.ForwardAgent is set and that
// variable is. It reports whether commands should request forwarding.
// As in Packer, a missing agent is not an error.
func (c *Client) forwardAgent(client *gossh.Client) bool {
	if !c.opts.ForwardAgent {
		return false
	}
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return false
	}
	// Each agent channel the instance opens dials the socket anew.
	if err := agent.ForwardToRemote(client, sock); err != nil {
		c.log.Warn("ssh agent forwarding not available", "error", err)
		return false
	}
	c.log.Debug("ssh agent forwarding enabled")
	return true
}

// requestAgent asks the server to expose the forwarded agent to the
// session's command (auth-agent-req@openssh.com). A refusal (the server
// disallows forwarding) is logged, not an error, as in Packer.
func (c *Client) requestAgent(client *gossh.Client, sess *gossh.Session) {
	c.mu.Lock()
	on := c.conn != nil && c.conn.client == client && c.conn.agent
	c.mu.Unlock()
	if !on {
		return
	}
	if err := agent.RequestAgentForwarding(sess); err != nil {
		c.log.Debug("ssh agent forwarding refused for command", "error", err)
	}
}
