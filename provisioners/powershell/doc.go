// Package powershell is the powershell provisioner: it uploads PowerShell
// scripts to a Windows instance and runs them over the communicator
// (WinRM), optionally as another user, with Packer's semantics.
//
// What it sends, in order:
//
//  1. The environment script, uploaded to remote_env_var_path: one line
//     `$env:NAME="value"` a variable (environment_vars, env,
//     PACKER_BUILD_NAME, PACKER_BUILDER_TYPE), values escaped for a
//     double-quoted string. No value appears on a command line.
//  2. For each script: the script, uploaded to remote_path (by default a
//     new random name each), then execute_command with {{.Path}} the
//     script, {{.Vars}} the environment script (dot-sourced by the
//     default command) and {{.ExecutionPolicy}}.
//  3. With elevated_user, instead of running execute_command directly:
//     the elevated wrapper, uploaded to
//     c:/Windows/Temp/imgbuild-elevated-<random>.ps1 and run with
//     "powershell -NoProfile -ExecutionPolicy Bypass -File <path>". It is
//     an imgbuild tool script: "# imgbuild elevated", the variables $name,
//     $user, $password, $command (the rendered elevated_execute_command)
//     and $log, then PowerShell that runs $command as $user through a
//     scheduled task and prints its output.
//  4. Finally one command that removes the environment script and the
//     wrappers (Remove-Item), even after a failure or an interrupt.
//
// Uploads are retried, reconnecting, within start_retry_timeout; a
// dropped connection while a script runs fails the provisioner.
package powershell
