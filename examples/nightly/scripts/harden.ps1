# The base layer: what every Windows server of the team needs.
Set-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server' -Name fDenyTSConnections -Value 1
New-Item -ItemType Directory -Force -Path C:\ops | Out-Null
Set-Content -Path C:\ops\base-release.txt -Value "windows-2022-base"
