package sysprep

import (
	"fmt"
	"strings"
)

// ec2ConfigScript configures EC2Config through its XML settings in
// C:\Program Files\Amazon\Ec2ConfigService: in Settings\Config.xml the
// states of the plugins Ec2SetPassword (random password at first boot),
// Ec2SetComputerName and Ec2HandleUserData, which the service turns off
// after the first boot and so must be turned on again before imaging; in
// Settings\BundleConfig.xml SetPasswordAfterSysprep. For admin_password =
// "keep", like the "Keep Existing" choice of the EC2 Service Properties
// dialog, both are off, and the command of the answer file
// (sysprep2008.xml) that scrambles the Administrator password
// (ScramblePassword.exe) is replaced by one that does nothing, keeping
// the order numbers of the others. Compatible with PowerShell 2.0 (Windows
// Server 2008 R2).
func ec2ConfigScript(p plan) string {
	state := func(on bool) string {
		if on {
			return "'Enabled'"
		}
		return "'Disabled'"
	}
	random := !p.keepPassword
	afterSysprep := "'Yes'"
	if !random {
		afterSysprep = "'No'"
	}
	var b strings.Builder
	b.WriteString(ec2ConfigHead)
	fmt.Fprintf(&b, "Set-XmlValue $configPath \"//Plugin[Name='Ec2SetPassword']/State\" %s\n", state(random))
	fmt.Fprintf(&b, "Set-XmlValue $configPath \"//Plugin[Name='Ec2SetComputerName']/State\" %s\n", state(p.computerName))
	fmt.Fprintf(&b, "Set-XmlValue $configPath \"//Plugin[Name='Ec2HandleUserData']/State\" %s\n", state(p.runUserData))
	fmt.Fprintf(&b, "Set-XmlValue $bundlePath \"//Property[Name='SetPasswordAfterSysprep']/Value\" %s\n", afterSysprep)
	fmt.Fprintf(&b, "Write-Output \"EC2Config ($configPath): Ec2SetPassword %s, Ec2SetComputerName %s, Ec2HandleUserData %s; SetPasswordAfterSysprep %s\"\n",
		onOff(random), onOff(p.computerName), onOff(p.runUserData), strings.Trim(afterSysprep, "'"))
	if p.keepPassword {
		b.WriteString(ec2ConfigKeepPassword)
	}
	return b.String()
}

// ec2ConfigHead checks that the agent is there and defines Set-XmlValue,
// which sets the text of the one node an XPath selects in a file.
const ec2ConfigHead = `$service = Join-Path $env:ProgramFiles 'Amazon\Ec2ConfigService'
$configPath = Join-Path $service 'Settings\Config.xml'
$bundlePath = Join-Path $service 'Settings\BundleConfig.xml'
$answerPath = Join-Path $service 'sysprep2008.xml'
foreach ($file in @($configPath, $bundlePath, $answerPath)) {
  if (-not (Test-Path -LiteralPath $file)) {
    throw "$file is missing: this instance has no EC2Config; set agent in the provisioner to its launch agent"
  }
}
function Open-Xml([string]$path) {
  $xml = New-Object System.Xml.XmlDocument
  $xml.PreserveWhitespace = $true
  $xml.Load($path)
  return ,$xml # the comma keeps PowerShell from enumerating the document's nodes
}
function Set-XmlValue([string]$path, [string]$xpath, [string]$value) {
  $xml = Open-Xml $path
  $node = $xml.SelectSingleNode($xpath)
  if ($null -eq $node) { throw "$path has no $xpath" }
  $node.InnerText = $value
  $xml.Save($path)
}
`

// ec2ConfigKeepPassword neutralizes the answer file's ScramblePassword
// commands (specialize pass, RunSynchronousCommand).
const ec2ConfigKeepPassword = `$answer = Open-Xml $answerPath
$scramble = @($answer.SelectNodes("//*[local-name()='RunSynchronousCommand']/*[local-name()='Path'][contains(., 'ScramblePassword')]"))
foreach ($node in $scramble) { $node.InnerText = 'cmd.exe /c rem imgbuild: keep the Administrator password' }
$answer.Save($answerPath)
Write-Output "EC2Config ($answerPath): $($scramble.Count) password scrambling command(s) replaced"
`
