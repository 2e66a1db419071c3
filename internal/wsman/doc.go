// Package wsman is a WS-Management server that speaks the WinRM remote
// shell protocol, so that WinRM clients (github.com/masterzen/winrm among
// them) can run commands against a simulated Windows machine. It knows
// nothing of Windows: an Executor runs each command line.
//
// Protocol: SOAP 1.2 envelopes POSTed to /wsman.
//
//   - WS-Transfer Create on the cmd resource opens a shell and returns its
//     ShellId selector; Delete closes it and cancels its commands.
//   - Command starts rsp:Command with its rsp:Arguments (joined by single
//     spaces into Command.Line) in a goroutine and returns the CommandId at
//     once.
//   - Send appends base64 stdin; End="true" ends it.
//   - Receive long-polls: it answers as soon as there is stdout or stderr
//     or the command is done (rsp:CommandState Done with rsp:ExitCode). With
//     nothing to say within the request's OperationTimeout (at most 5 s
//     here) it answers the WS-Management fault 2150858793, which clients
//     treat as "poll again".
//   - Signal terminate (or ctrl_c, ctrl_break) cancels the command's context.
//   - Any other action gets a SOAP fault with HTTP 500, as from WinRM.
//
// Authentication: Basic, and NTLMv2 through the Negotiate (or NTLM) scheme.
// Requests without credentials get 401 offering both. A connection that
// completed NTLM stays authenticated, as on Windows. Server challenges are
// remembered for the whole server rather than per connection, so that an
// AUTHENTICATE message the client's connection pool sends on another
// connection still succeeds. Wrong credentials get 401 every time.
//
// Output a command writes is buffered in memory until a Receive takes it,
// so executors never block on a slow client.
package wsman
