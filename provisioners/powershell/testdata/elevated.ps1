# imgbuild elevated
$name = 'imgbuild-elevated-0123456789abcdef'
$user = 'EC2AMAZ\Admin'
$password = 'pa''ss $w0rd'
$command = 'powershell -executionpolicy bypass "& { &''c:/Windows/Temp/s.ps1''; exit $LastExitCode }"'
$log = 'C:\Windows\Temp\imgbuild-elevated-0123456789abcdef.out'

# Run $command as $user through a scheduled task; print its output; exit with its result.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$service = $null
$folder = $null
try {
  $service = New-Object -ComObject 'Schedule.Service'
  $service.Connect()
  $task = $service.NewTask(0)
  $task.RegistrationInfo.Description = 'imgbuild elevated command'
  $task.Settings.MultipleInstances = 2
  $task.Settings.DisallowStartIfOnBatteries = $false
  $task.Settings.StopIfGoingOnBatteries = $false
  $task.Settings.ExecutionTimeLimit = 'PT24H'
  $task.Principal.RunLevel = 1
  $logon = 1
  if ($password -eq '') { $logon = 5; $password = $null }
  $task.Principal.LogonType = $logon
  $action = $task.Actions.Create(0)
  $action.Path = 'cmd'
  $action.Arguments = "/c $command > `"$log`" 2>&1"
  $folder = $service.GetFolder('\')
  $registered = $folder.RegisterTaskDefinition($name, $task, 6, $user, $password, $logon, $null)
  $password = $null
  $registered.Run($null) | Out-Null
  $shown = 0
  $waited = 0
  do {
    Start-Sleep -Milliseconds 500
    $waited++
    if (Test-Path -LiteralPath $log) {
      $lines = @(Get-Content -LiteralPath $log)
      if ($lines.Count -gt $shown) {
        $lines[$shown..($lines.Count - 1)] | ForEach-Object { Write-Output $_ }
        $shown = $lines.Count
      }
    }
    $current = $folder.GetTask($name)
    $busy = ($current.State -eq 2) -or ($current.State -eq 4) -or ($current.LastTaskResult -eq 267009)
    $notStarted = ($current.LastTaskResult -eq 267011)
    if ($notStarted -and -not $busy -and $waited -gt 120) { throw "scheduled task $name did not start" }
  } while ($busy -or $notStarted)
  if (Test-Path -LiteralPath $log) {
    $lines = @(Get-Content -LiteralPath $log)
    if ($lines.Count -gt $shown) { $lines[$shown..($lines.Count - 1)] | ForEach-Object { Write-Output $_ } }
  }
  $result = $current.LastTaskResult
} finally {
  if ($folder -ne $null) { try { $folder.DeleteTask($name, 0) } catch {} }
  Remove-Item -LiteralPath $log -Force -ErrorAction SilentlyContinue
  if ($PSCommandPath) { Remove-Item -LiteralPath $PSCommandPath -Force -ErrorAction SilentlyContinue }
  if ($service -ne $null) { [System.Runtime.InteropServices.Marshal]::ReleaseComObject($service) | Out-Null }
}
exit $result
