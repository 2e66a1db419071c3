// Package winguest is the local cloud's simulated Windows machine: a real
// WS-Management endpoint (package wsman) on the instance's loopback
// address, with accounts, a disk and a log, answering the commands
// imgbuild sends from their shape. It does not run PowerShell or cmd.exe.
// It is test and demo infrastructure, never part of a real build.
//
// # Life cycle
//
// [New] makes a stopped machine. [Machine.Boot] waits the boot delay,
// records "boot", runs the user data (at the first boot, or at every boot
// with <persist>true</persist>) and starts WinRM: HTTP on IP:5985 and
// HTTPS on IP:5986 with a self-signed certificate, Basic and NTLM.
// [Machine.Stop] drops every connection and cancels every command; Boot
// starts the machine again with the same disk and accounts. A restart
// command drops the connections shortly after answering (exit 0), records
// "restart", keeps WinRM down for the restart delay, then boots again. A
// Sysprep command with shutdown, or a poweroff, stops the machine by
// itself (after the sysprep delay, or at once) and calls Options.OnStop.
//
// # User data
//
// Windows user data as EC2Launch reads it: <powershell>...</powershell>
// and <script>...</script> blocks (tags case-sensitive; the caller has
// decoded the base64). Each block is recorded ("userdata"). The guest
// runs nothing in it except "net user <name> <password>" (net.exe too;
// the password may be quoted "..." or '...'), the documented way to set a
// password by user data: it sets the password of an existing user, and
// with /add creates the user. User data without a block is recorded and
// not run, as on EC2.
//
// # Commands
//
// Every command line is answered by shape, in this order:
//
//   - "powershell ... -EncodedCommand <base64>" (also -enc, -e, -ec):
//     the decoded script is an imgbuild tool script (see package
//     communicator/winrm: restore, mkdir, download, list, elevated,
//     registry-check), which the guest performs with its variables;
//     any other script is answered like a command line and recorded as
//     "command" with the decoded text.
//   - cmd's "echo <text> >> <file>" (or ">"): appends (writes) text and
//     CRLF, as cmd does. The chunks of an upload's staging file
//     (C:\Windows\Temp\imgbuild-upload-*.b64) are not recorded; the file
//     the restore script writes is ("file": path, size, SHA-256). A plain
//     "echo <text>" prints the text.
//   - anything else is recorded ("command") and answered: a match of the
//     fail glob exits with the fail code (and a message on stderr); the
//     script files it runs are answered (below); an AWS agent's Sysprep
//     with shutdown records "sysprep" and stops the machine after the
//     sysprep delay; "shutdown /r" (/g, -r, shutdown.exe) or
//     Restart-Computer restarts it; "shutdown /s" (/p) or Stop-Computer
//     records "poweroff" and stops it; windows-restart's check command
//     (Write-Output 'restarted.') prints "restarted."; everything else
//     exits 0 with no output.
//
// A script file is one named by -File <path>, &'<path>', & "<path>" or a
// dot-source ". <path>" in a command or script, or the program of a cmd
// command line ("C:\x.bat", "cmd /c C:\x.bat", "call ..."). When it
// exists on the disk its content is recorded ("script") and answered the
// same way (an elevated tool script in a file runs too), up to four
// levels deep. Sysprep forms recognised (case-insensitive): EC2Launch v2
// "ec2launch[.exe] sysprep" with --shutdown, --shutdown=true or -s;
// EC2Launch v1 "SysprepInstance.ps1" without -NoShutdown; EC2Config
// "ec2config.exe -sysprep"; "sysprep.exe ... /shutdown". The forms
// without shutdown are recorded as commands and do not stop the machine.
//
// The elevated tool script runs $command as $user through the same
// command handling ("elevated" with the user and command, then the
// command itself as that user), streaming its output and returning its
// exit code. A non-empty $password must be the user's ("auth-failed"
// otherwise); an empty one is a service account's logon.
//
// # Disk
//
// Windows paths map to <Disk>/<drive letter, lower case>/<path>, "/" and
// "\" alike, e.g. C:\Windows\Temp\a.ps1 to <Disk>/c/Windows/Temp/a.ps1.
// %TEMP% and $env:TEMP are C:\Windows\Temp (also %SystemRoot%, %windir%,
// %ProgramFiles%, %ProgramData%, %SystemDrive%, %USERPROFILE%); relative
// paths are relative to C:\Users\<user>. A path missing from Disk is read
// from the first of Options.Lowers that has it; writes go to Disk, so the
// local cloud captures them as image content. Limitations: path
// components compare case-sensitively (Windows ignores case); deleting a
// file removes it from Disk only, so a copy in a lower layer shows again
// (there are no whiteouts).
//
// # Log
//
// The guest log is JSON lines, one [Event] per line, written when a
// command has been answered, in the order things happened: a command
// before the script it ran, "elevated" before its command, a file after
// the command that wrote it. Text is masked before it is written: "net
// user" passwords and the values of $...password... = '...' assignments
// become ********, so no password reaches the log. WinRM logons with
// wrong credentials are recorded as "auth-failed" with the user name.
package winguest
