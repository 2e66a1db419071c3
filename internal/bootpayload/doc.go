// Package bootpayload compiles the provisioners a build's strategy does not
// bake into its image (the deferred layers) into a boot payload: EC2 user
// data that, given to an instance launched from the image, configures it
// at first boot as the baked provisioners would have.
//
// # Linux (communicator "ssh" or "none")
//
// The payload is a POSIX shell script ("#!/bin/sh"), which cloud-init runs
// once, as root, in its final stage. The provisioners run in template
// order; the first failure stops the payload with a message naming the
// provisioner and its file:line. When the script is over EC2's limit of
// 16384 bytes it is gzip-compressed (cloud-init decompresses user data).
//
//   - shell: inline (with inline_shebang), script and scripts (their
//     contents, CRLF line endings turned into LF unless binary), each
//     written to a temporary file and executed with environment_vars, env,
//     PACKER_BUILD_NAME and PACKER_BUILDER_TYPE exported; valid_exit_codes
//     decide success. use_env_var_file is accepted (the environment is
//     exported either way).
//   - file: content, or the contents of source/sources (files, and
//     directories with rsync's trailing-slash rule), written to the
//     absolute destination with the local file's permissions (0644 for
//     content); parent directories are created.
//   - pause_before: a sleep before the provisioner; a shell or powershell
//     provisioner's pause_after, a sleep after it.
//
// # Windows (communicator "winrm")
//
// The payload is "<powershell>...</powershell>" user data, which EC2Launch
// runs once as Administrator (SYSTEM). It is never compressed: Windows
// cannot read gzip user data, so a payload over the limit is an error.
//
//   - powershell: inline, script and scripts, each written to a temporary
//     .ps1 and run with powershell (pwsh with use_pwsh) -File, with
//     -ExecutionPolicy execution_policy (none: no flag), the environment
//     set as $env: variables for the run; valid_exit_codes decide success.
//   - file: as on Linux, written with [IO.File]::WriteAllBytes; the
//     destination must be absolute (C:\... or \\server\...).
//
// Whatever else a provisioner sets (execute_command, remote paths,
// expect_disconnect, elevated_user, max_retries, timeout ...) cannot carry
// over to user data: the template loader refuses it on a deferred
// provisioner, as it refuses provisioners that cannot be deferred at all
// (a file download, windows-restart, sysprep, shell-local, powershell on
// Linux, shell on Windows). Compile refuses them again, by type, when
// given one.
//
// Differences from baking to keep in mind: the payload runs as root (or
// SYSTEM), not as the ssh_username, from "/" rather than a home directory,
// and on every instance launched from the image, at its first boot.
package bootpayload
