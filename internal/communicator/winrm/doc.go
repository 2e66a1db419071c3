// Package winrm is the WinRM communicator: it connects to a Windows build
// instance over WS-Management (HTTP or HTTPS, Basic or NTLM
// authentication), runs commands and transfers files.
//
// It uses github.com/masterzen/winrm for the WS-Management messages and
// its PowerShell encoding, with its own HTTP transport and command loop:
// every request carries a context, so a cancelled build terminates the
// remote command at once, and transport errors reach the caller.
//
// # Connecting
//
// [Connect] keeps trying until a command runs in a new shell or the
// overall deadline ([Options.Timeout], default 30m) expires: a Windows
// instance takes minutes to boot, so refused, reset or timed-out
// connections and server errors are retried, first after 0.5s, then every
// few seconds. An HTTP 401 (wrong user name or password) is reported at
// once with the user and host:port, and so is a certificate that does not
// verify (set Insecure for a new instance's self-signed certificate).
// Errors never contain the password. [Client.Reconnect] does the same
// after a restart.
//
// # Commands and disconnects
//
// [Client.Run] runs a command in a new cmd.exe shell and returns its exit
// code; a non-zero code is not an error. Errors are transport failures.
// When the connection is lost while a command runs (for example it
// restarted the machine, and the restarted WinRM service knows nothing of
// the old shell) the error matches [ErrDisconnected]; a provisioner that
// expects the disconnect can treat it as success before calling
// [Client.Reconnect].
//
// # Tool scripts
//
// File transfer runs small PowerShell scripts ("tool scripts") sent as
// "powershell.exe -EncodedCommand <base64 of UTF-16LE>" (masterzen/winrm's
// Powershell, which puts "$ProgressPreference = 'SilentlyContinue';"
// before the script). A tool script starts with a header line and its
// variables, then the PowerShell that does the work on a real host:
//
//	# imgbuild <op>
//	$<name> = '<value>'
//	...
//	(an empty line)
//	<PowerShell using the variables>
//
// Values are single-quoted, a "'" doubled ([Quote]), so nothing in them
// is evaluated; the empty line ends the variables. [ToolScript] writes the
// head, [ParseToolScript] reads it:
// the local cloud's simulated Windows guest (package winguest) does not
// run PowerShell but reads op and variables and does the operation
// itself. Other packages build their tool scripts (op "elevated" of the
// powershell provisioner, "registry-check" of windows-restart) with ToolScript
// too. The scripts of this package:
//
//   - upload: the content is first appended, base64 in chunks of 5940
//     bytes (so each command fits cmd.exe's 8191-character limit), by cmd
//     commands
//     echo <base64> >> "C:\Windows\Temp\imgbuild-upload-<32 hex>.b64",
//     then "# imgbuild restore" with $src (that file) and $dst decodes
//     the lines of src into dst, creating dst's parent directories and
//     replacing dst, and deletes src. An empty $src (nothing uploaded)
//     makes dst empty. It fails (exit 1, message on stderr) when dst is
//     a directory or src is missing.
//   - "# imgbuild mkdir" with $path creates the directory and its parents.
//   - "# imgbuild download" with $path prints the file as one base64 line;
//     exit 1 when it is missing or a directory.
//   - "# imgbuild list" with $path prints, recursively, "d <relative
//     path>" or "f <size> <relative path>" per entry ("\" separators);
//     exit 1 when it is not a directory.
//
// Paths may use "/" or "\", and %VAR% or $env:VAR references, which the
// scripts expand. Windows has no permission bits: upload modes are
// ignored, downloaded files get 0644 and directories 0755.
//
// # Concurrency
//
// A [Client] is safe for concurrent use; every operation opens its own
// shell. [Client.Close] ends the operations in flight. Run's only
// goroutine (which sends stdin) has returned when Run does.
package winrm
