package sysprep

import (
	"strings"
)

// plan is what the prepare script does: the agent and the options, with
// the password to set again for admin_password = "keep" on EC2Launch v2
// and v1 (empty otherwise).
type plan struct {
	agent         Agent
	keepPassword  bool
	password      string
	computerName  bool
	runUserData   bool
	cleanTemp     bool
	zeroFreeSpace bool
}

// The scripts never start with "# imgbuild <op>", the header of imgbuild's
// tool scripts, which the simulated Windows guest interprets instead of
// running. The prepare script also never names an agent's Sysprep command,
// so that only the run script, sent on its own, shuts Windows down; for
// EC2Launch v2 it does not even contain the word.

// prepareScript returns the PowerShell script that configures the agent
// for the first boot of instances launched from the image, then cleans
// up. It removes itself first, as it may hold the build's password, and
// exits 1 with a message on stderr when a step fails.
func prepareScript(p plan) string {
	var b strings.Builder
	b.WriteString("# Written by imgbuild: sets what " + p.agent.DisplayName() + " does at the first boot of\n" +
		"# instances launched from the image, then cleans up. The command that generalizes\n" +
		"# Windows and shuts it down runs next, on its own.\n" +
		"$ErrorActionPreference = 'Stop'\n" +
		"$ProgressPreference = 'SilentlyContinue'\n" +
		"Remove-Item -LiteralPath $MyInvocation.MyCommand.Path -Force -ErrorAction SilentlyContinue\n")
	if p.password != "" {
		b.WriteString("$password = " + quotePS(p.password) + "\n")
	}
	b.WriteString("try {\n")
	switch p.agent {
	case EC2LaunchV2:
		b.WriteString(ec2LaunchV2Script(p))
	case EC2LaunchV1:
		b.WriteString(ec2LaunchV1Script(p))
	case EC2Config:
		b.WriteString(ec2ConfigScript(p))
	}
	if p.cleanTemp {
		b.WriteString(cleanTempScript)
	}
	if p.zeroFreeSpace {
		b.WriteString(zeroFreeSpaceScript)
	}
	b.WriteString("} catch {\n" +
		"  [Console]::Error.WriteLine('error: ' + $_)\n" +
		"  exit 1\n" +
		"}\n" +
		"exit 0\n")
	return b.String()
}

// runScript returns the PowerShell script that runs the agent's Sysprep
// command, which shuts Windows down, and exits with its status. It
// removes itself first: nothing runs after Sysprep to do it.
func runScript(a Agent) string {
	return "# Written by imgbuild's sysprep provisioner: " + a.DisplayName() + " runs Sysprep, which shuts\n" +
		"# Windows down when it is done.\n" +
		"Remove-Item -LiteralPath $MyInvocation.MyCommand.Path -Force -ErrorAction SilentlyContinue\n" +
		"$global:LASTEXITCODE = 0\n" +
		a.SysprepCommand() + "\n" +
		"exit $LASTEXITCODE\n"
}

// runFileCommand runs an uploaded PowerShell script.
func runFileCommand(path string) string {
	return "powershell -NoProfile -ExecutionPolicy Bypass -File " + path
}

// quotePS returns s as a PowerShell single-quoted string. PowerShell
// ends such a string at ' and at the typographic single quotes too, so
// each of them is doubled.
func quotePS(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// psBool is a PowerShell boolean literal.
func psBool(v bool) string {
	if v {
		return "$true"
	}
	return "$false"
}

// onOff names a setting's state in the scripts' progress lines.
func onOff(v bool) string {
	if v {
		return "on"
	}
	return "off"
}

// setMemberFunc sets a property of a PSCustomObject, adding it when
// missing (property names compare case-insensitively, so an existing
// "SetComputerName" is the one "setComputerName" replaces).
const setMemberFunc = `function Set-Member($object, [string]$name, $value) {
  $object | Add-Member -NotePropertyName $name -NotePropertyValue $value -Force
}
`

// cleanTempScript empties the temporary folders: the user's %TEMP% and
// C:\Windows\Temp, where imgbuild's uploads and scripts go. What is in use
// stays. PowerShell 2.0 compatible, like everything EC2Config runs.
const cleanTempScript = `# clean_temp: empty the temporary folders; files in use stay.
$removed = 0
$inUse = 0
foreach ($dir in (@($env:TEMP, (Join-Path $env:SystemRoot 'Temp')) | Sort-Object -Unique)) {
  if (-not $dir -or -not (Test-Path -LiteralPath $dir)) { continue }
  foreach ($item in @(Get-ChildItem -LiteralPath $dir -Force -ErrorAction SilentlyContinue)) {
    try {
      Remove-Item -LiteralPath $item.FullName -Recurse -Force -ErrorAction Stop
      $removed++
    } catch {
      $inUse++
    }
  }
}
Write-Output "Temporary folders: removed $removed items, $inUse in use stay"
`

// zeroFreeSpaceScript fills the free space of the system drive, less a
// 512 MiB reserve for Windows, with a file of zeros, then deletes it. The
// file is written through the cache (WriteThrough), so the zeros reach the
// disk before the file is deleted. A disk that fills up sooner (another
// writer) ends the loop early.
const zeroFreeSpaceScript = `# zero_free_space: overwrite the free space of the system drive with zeros.
$zeroPath = Join-Path ($env:SystemDrive + '\') 'imgbuild-zero.tmp'
$toWrite = (New-Object System.IO.DriveInfo $env:SystemDrive).AvailableFreeSpace - 512MB
Write-Output ('Writing zeros over {0:N0} MiB of free space on {1}' -f ($toWrite / 1MB), $env:SystemDrive)
if ($toWrite -gt 0) {
  $buffer = New-Object byte[] (4MB)
  $stream = New-Object System.IO.FileStream($zeroPath, [System.IO.FileMode]::Create, [System.IO.FileAccess]::Write, [System.IO.FileShare]::None, 4096, [System.IO.FileOptions]::WriteThrough)
  try {
    while ($toWrite -gt 0) {
      $count = [int][Math]::Min([int64]$buffer.Length, $toWrite)
      $stream.Write($buffer, 0, $count)
      $toWrite -= $count
    }
  } catch [System.IO.IOException] {
    Write-Output 'The disk filled up early: what was written is zeroed'
  } finally {
    $stream.Close()
    Remove-Item -LiteralPath $zeroPath -Force
  }
  Write-Output 'Free space zeroed'
}
`
