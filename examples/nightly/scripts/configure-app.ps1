# The app layer, run at first boot from the boot payload.
New-Item -ItemType Directory -Force -Path C:\inetpub\app | Out-Null
Set-Content -Path C:\inetpub\app\version.txt -Value $Env:APP_VERSION
Write-Output "configured app $Env:APP_VERSION"
