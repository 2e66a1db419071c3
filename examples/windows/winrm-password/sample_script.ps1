# Shows how environment_vars reach a script: each value arrives exactly as
# written in the template, whatever PowerShell would make of it.
Write-Host "PACKER_BUILD_NAME is $Env:PACKER_BUILD_NAME"
Write-Host "VAR1 is $Env:VAR1"
Write-Host "VAR2 is $Env:VAR2"
Write-Host "VAR3 is $Env:VAR3"
Write-Host "VAR4 is $Env:VAR4"
