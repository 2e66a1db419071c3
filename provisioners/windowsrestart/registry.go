package windowsrestart

import (
	mzwinrm "github.com/masterzen/winrm"

	"github.com/imgbuild/imgbuild/internal/communicator/winrm"
)

// registryCheckBody prints each of $keys (joined by ";") that exists.
const registryCheckBody = `foreach ($key in $keys.Split(';')) {
  if ($key -ne '' -and (Test-Path -LiteralPath $key)) { Write-Output $key }
}
exit 0
`

// registryCheckCommand returns the command that runs the registry check:
// the imgbuild tool script "registry-check" with $keys, as an encoded
// PowerShell command. The simulated guest reads the operation and $keys
// (and prints nothing: it has no registry); a real host runs the
// PowerShell.
func registryCheckCommand(keys string) string {
	return encodedCommand(winrm.ToolScript("registry-check", [2]string{"keys", keys}) + registryCheckBody)
}

// encodedCommand returns "powershell.exe -EncodedCommand <base64>", the
// script encoded as UTF-16LE then base64, as PowerShell expects.
func encodedCommand(script string) string { return mzwinrm.Powershell(script) }
