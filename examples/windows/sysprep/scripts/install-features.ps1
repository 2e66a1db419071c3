# Runs elevated (scheduled task as Administrator): features and settings
# every instance of the image should have.
$ErrorActionPreference = "Stop"
Install-WindowsFeature -Name Web-Server -IncludeManagementTools
Set-TimeZone -Id "UTC"
Write-Output "features installed"
