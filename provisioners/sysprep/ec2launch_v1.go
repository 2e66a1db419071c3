package sysprep

import (
	"fmt"
	"strings"
)

// ec2LaunchV1Script configures EC2Launch v1 through its LaunchConfig.json
// (C:\ProgramData\Amazon\EC2-Windows\Launch\Config), read and written with
// ConvertFrom-Json and ConvertTo-Json: adminPasswordType Random, or
// Specify with the build's password in adminPassword for admin_password =
// "keep" (the agent deletes it once it has set it); setComputerName;
// handleUserData. It is written back as UTF-8 with a byte order mark, so
// the agent's Get-Content reads a non-ASCII password right.
//
// Then it runs InitializeInstance.ps1 -Schedule, which schedules the
// agent's initialization (password, computer name, user data) for the
// next boot: AWS documents it as required before the Sysprep script, and
// it is what makes the agent run user data again.
func ec2LaunchV1Script(p plan) string {
	passwordType, password := "'Random'", "''"
	if p.keepPassword {
		passwordType, password = "'Specify'", "$password"
	}
	var b strings.Builder
	b.WriteString(ec2LaunchV1Head)
	fmt.Fprintf(&b, "Set-Member $config 'adminPasswordType' %s\n", passwordType)
	fmt.Fprintf(&b, "Set-Member $config 'adminPassword' %s\n", password)
	fmt.Fprintf(&b, "Set-Member $config 'setComputerName' %s\n", psBool(p.computerName))
	fmt.Fprintf(&b, "Set-Member $config 'handleUserData' %s\n", psBool(p.runUserData))
	b.WriteString(ec2LaunchV1Tail)
	fmt.Fprintf(&b, "Write-Output \"EC2Launch v1 ($configPath): adminPasswordType %s, setComputerName %s, handleUserData %s\"\n",
		strings.Trim(passwordType, "'"), onOff(p.computerName), onOff(p.runUserData))
	b.WriteString(ec2LaunchV1Schedule)
	return b.String()
}

// ec2LaunchV1Head checks that the agent is there and reads its
// configuration into $config.
const ec2LaunchV1Head = `$launch = Join-Path $env:ProgramData 'Amazon\EC2-Windows\Launch'
$configPath = Join-Path $launch 'Config\LaunchConfig.json'
$initialize = Join-Path $launch 'Scripts\InitializeInstance.ps1'
foreach ($file in @($configPath, $initialize)) {
  if (-not (Test-Path -LiteralPath $file)) {
    throw "$file is missing: this instance has no EC2Launch v1; set agent in the provisioner to its launch agent"
  }
}
` + setMemberFunc + `$config = [System.IO.File]::ReadAllText($configPath) | ConvertFrom-Json
`

// ec2LaunchV1Tail writes the configuration back.
const ec2LaunchV1Tail = `[System.IO.File]::WriteAllText($configPath, (ConvertTo-Json -InputObject $config -Depth 8), (New-Object System.Text.UTF8Encoding $true))
`

// ec2LaunchV1Schedule schedules the agent's initialization for the next
// boot. The AWS script runs with errors that do not stop it left as they
// are.
const ec2LaunchV1Schedule = `& {
  $ErrorActionPreference = 'Continue'
  & $initialize -Schedule
}
Write-Output 'EC2Launch v1: initialization scheduled for the next boot (InitializeInstance.ps1 -Schedule)'
`
