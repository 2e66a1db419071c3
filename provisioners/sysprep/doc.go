// Package sysprep is imgbuild's sysprep provisioner: the last provisioner
// of a Windows build. It sets what the image's launch agent does at the
// first boot of instances launched from the image (Administrator
// password, computer name, user data), cleans up, and has the agent run
// Sysprep, which generalizes Windows and shuts it down. The builder then
// waits for the instance to stop by itself (Config.StopsInstance) before
// it creates the image.
//
// # Choosing the agent
//
// The agent attribute names it; otherwise [AgentFor] tells it from the
// source image's name (and windows_version): EC2LaunchV2-* images and
// Windows Server 2025 and 2022 have EC2Launch v2, 2019 and 2016 EC2Launch
// v1, 2012 R2 and earlier EC2Config. The prepare script fails with a clear
// message when the chosen agent's files are not on the instance.
//
// # What it runs
//
// Two PowerShell scripts, each uploaded to C:/Windows/Temp and run with
// "powershell -NoProfile -ExecutionPolicy Bypass -File <path>"; each
// removes itself first.
//
//  1. The prepare script, C:/Windows/Temp/imgbuild-sysprep-<8 hex>.ps1:
//     the agent's settings, then clean_temp and zero_free_space.
//     EC2Launch v2: agent-config.yml, through "ec2launch get-agent-config
//     --format json" and "ec2launch validate" (tasks setAdminAccount,
//     setHostName). EC2Launch v1: LaunchConfig.json (adminPasswordType,
//     adminPassword, setComputerName, handleUserData), then
//     InitializeInstance.ps1 -Schedule. EC2Config: Config.xml plugins
//     Ec2SetPassword, Ec2SetComputerName, Ec2HandleUserData;
//     BundleConfig.xml SetPasswordAfterSysprep; for admin_password =
//     "keep" the ScramblePassword command of sysprep2008.xml. For
//     admin_password = "keep" with EC2Launch v2 or v1 the script starts
//     with the line $password = '<the build's password>'. A failure exits
//     1 with "error: <message>" on stderr, and the provisioner fails
//     without running Sysprep.
//  2. The run script, C:/Windows/Temp/imgbuild-sysprep-<8 hex>-run.ps1,
//     with the agent's documented Sysprep command with shutdown
//     ([Agent.SysprepCommand]) and "exit $LASTEXITCODE":
//     EC2Launch v2: & "$env:ProgramFiles\Amazon\EC2Launch\ec2launch.exe" sysprep --shutdown --clean
//     EC2Launch v1: & "$env:ProgramData\Amazon\EC2-Windows\Launch\Scripts\SysprepInstance.ps1"
//     EC2Config:    & "$env:ProgramFiles\Amazon\Ec2ConfigService\ec2config.exe" -sysprep
//
// The prepare script never contains a Sysprep command, so only the run
// script, a command of its own, shuts Windows down.
//
// # Disconnects
//
// Windows shutting down ends the connection, perhaps before the command
// returns: a transport error from the run script's command is success (the
// communicator cannot tell whether the command reached the instance, so a
// Sysprep that never started shows as an instance that does not stop, which
// the builder reports after its wait). A non-zero exit status is a failure
// naming the agent and the command. Everything before the run script's
// command fails the provisioner on any error.
package sysprep
