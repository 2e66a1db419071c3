package sysprep

import "strings"

// ec2LaunchV2Script configures EC2Launch v2 through its agent-config.yml
// (C:\ProgramData\Amazon\EC2Launch\config). Windows PowerShell 5.1 has no
// YAML module, and editing YAML as text is fragile, so the script asks the
// agent for its configuration as JSON (ec2launch get-agent-config --format
// json), changes the objects, and writes them back as JSON, which is YAML
// too: the agent reads it, and get-agent-config prints it in either form.
// Then "ec2launch validate" checks the file; when it fails the original
// file is put back and the script fails.
//
// The changes: every setAdminAccount and setHostName task is removed from
// every stage; a setAdminAccount task (password type random, or static
// with the build's password for admin_password = "keep"; an existing
// task's account name is kept) goes first in the preReady stage, and with
// computer_name a setHostName task (reboot: true, no hostName: the name
// comes from the private IPv4 address) first in postReady, the stages the
// agent allows them in. A missing stage is added. User data needs no
// change: ec2launch sysprep resets the agent, so it runs at first boot.
func ec2LaunchV2Script(p plan) string {
	password := "[pscustomobject][ordered]@{ type = 'random' }"
	if p.keepPassword {
		password = "[pscustomobject][ordered]@{ type = 'static'; data = $password }"
	}
	var b strings.Builder
	b.WriteString(ec2LaunchV2Head)
	b.WriteString("$inputs['password'] = " + password + "\n")
	b.WriteString("Add-Task 'preReady' ([pscustomobject][ordered]@{ task = 'setAdminAccount'; inputs = [pscustomobject]$inputs })\n")
	if p.computerName {
		b.WriteString("Add-Task 'postReady' ([pscustomobject][ordered]@{ task = 'setHostName'; inputs = [pscustomobject][ordered]@{ reboot = $true } })\n")
	}
	b.WriteString(ec2LaunchV2Tail)
	passwordType := "random"
	if p.keepPassword {
		passwordType = "static"
	}
	b.WriteString("Write-Output \"EC2Launch v2 ($configPath): setAdminAccount password " + passwordType +
		", setHostName " + onOff(p.computerName) + "\"\n")
	return b.String()
}

// ec2LaunchV2Head checks that the agent is there, reads its configuration
// and removes the tasks the provisioner owns, remembering the account name
// of setAdminAccount in $inputs.
const ec2LaunchV2Head = `$exe = Join-Path $env:ProgramFiles 'Amazon\EC2Launch\EC2Launch.exe'
$configPath = Join-Path $env:ProgramData 'Amazon\EC2Launch\config\agent-config.yml'
foreach ($file in @($exe, $configPath)) {
  if (-not (Test-Path -LiteralPath $file)) {
    throw "$file is missing: this instance has no EC2Launch v2; set agent in the provisioner to its launch agent"
  }
}
` + setMemberFunc + `function Invoke-Agent([string[]]$arguments) {
  $ErrorActionPreference = 'Continue'
  $lines = & $exe $arguments 2>&1 | ForEach-Object { "$_" }
  if ($LASTEXITCODE -ne 0) {
    throw ('EC2Launch.exe {0} exited with status {1}: {2}' -f ($arguments -join ' '), $LASTEXITCODE, ($lines -join "` + "`n" + `"))
  }
  return ($lines -join "` + "`n" + `")
}
function Add-Task([string]$stageName, $task) {
  $stage = @($doc.config | Where-Object { $_ -and $_.stage -eq $stageName }) | Select-Object -First 1
  if (-not $stage) {
    $stage = [pscustomobject][ordered]@{ stage = $stageName; tasks = @() }
    Set-Member $doc 'config' (@($doc.config | Where-Object { $_ }) + $stage)
  }
  Set-Member $stage 'tasks' (@($task) + @($stage.tasks | Where-Object { $_ }))
}
$original = [System.IO.File]::ReadAllBytes($configPath)
$doc = Invoke-Agent 'get-agent-config', '--format', 'json' | ConvertFrom-Json
$inputs = [ordered]@{}
foreach ($stage in @($doc.config | Where-Object { $_ })) {
  $tasks = @($stage.tasks | Where-Object { $_ })
  foreach ($task in $tasks) {
    if ($task.task -eq 'setAdminAccount' -and $task.inputs -and $task.inputs.name) { $inputs['name'] = $task.inputs.name }
  }
  Set-Member $stage 'tasks' @($tasks | Where-Object { $_.task -ne 'setAdminAccount' -and $_.task -ne 'setHostName' })
}
`

// ec2LaunchV2Tail writes the configuration back and has the agent check
// it, restoring the original when it does not pass.
const ec2LaunchV2Tail = `[System.IO.File]::WriteAllText($configPath, (ConvertTo-Json -InputObject $doc -Depth 32), (New-Object System.Text.UTF8Encoding $false))
try {
  Invoke-Agent 'validate' | Out-Null
} catch {
  [System.IO.File]::WriteAllBytes($configPath, $original)
  throw "EC2Launch v2 rejects the new $configPath, so the original is back: $_"
}
`
