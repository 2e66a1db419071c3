// Package ssh is the SSH communicator: it connects to a build instance over
// SSH (directly or through a bastion host), runs commands and transfers
// files.
//
// # Connecting
//
// [Connect] keeps dialing until the instance answers or the overall
// deadline ([Options.Timeout], default 5m) expires. A build instance is
// usually still booting when the builder first tries it, so refused or
// timed-out TCP dials are retried without limit; failed SSH handshakes
// (including rejected credentials) are counted and Connect gives up after
// [Options.HandshakeAttempts] of them, so a wrong key is reported within
// seconds instead of after the full timeout. Retries back off from 100ms to
// a 5s cap. Errors name user@host:port, what failed last and for how long
// Connect tried; they never contain passwords or key material.
//
// # Host keys
//
// By default host keys are not verified, as in Packer: the instance was
// launched moments ago by this build, so its host key is unknown and
// cannot be pinned in advance. Set [Options.HostKeyCallback] (for example
// with golang.org/x/crypto/ssh/knownhosts) when the host is known.
//
// # Commands and disconnects
//
// [Client.Run] returns the remote exit status; a non-zero status is not an
// error. Errors are transport failures. When the connection is lost while a
// command runs (for example the command reboots the machine) the error
// matches [ErrDisconnected], which a provisioner that expects the
// disconnect can treat as success before calling [Client.Reconnect].
//
// # File transfer
//
// Files travel over SFTP unless [Options.FileTransfer] is "scp" or the
// server offers no sftp subsystem; the SCP fallback speaks the scp
// protocol to a remote "scp -t" or "scp -f", so it needs scp and a POSIX
// shell on the remote host.
//
// # Concurrency
//
// A [Client] is safe for concurrent use. Every goroutine it starts (the
// keepalive loop, the command waiters) is stopped before the method or
// [Client.Close] that owns it returns.
package ssh
