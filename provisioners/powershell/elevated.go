package powershell

import "github.com/imgbuild/imgbuild/internal/communicator/winrm"

// Where the elevated wrapper of a script goes, its task name and the
// task's output file; %s is the same random suffix in all three.
const (
	elevatedScriptPath = "c:/Windows/Temp/imgbuild-elevated-%s.ps1"
	elevatedTaskName   = "imgbuild-elevated-%s"
	elevatedLogPath    = `C:\Windows\Temp\imgbuild-elevated-%s.out`
)

// runFileCommand runs an uploaded PowerShell file, such as the elevated
// wrapper.
func runFileCommand(path string) string {
	return "powershell -NoProfile -ExecutionPolicy Bypass -File " + path
}

// elevatedTask is what the elevated wrapper needs: the scheduled task's
// name, the account it runs as, the command line it runs and the file
// that collects its output.
type elevatedTask struct {
	Name, User, Password, Command, Log string
}

// wrapper returns the elevated wrapper: an imgbuild tool script (op
// "elevated") whose variables are the task's, followed by the PowerShell
// that does the work on Windows.
func (t elevatedTask) wrapper() []byte {
	return []byte(winrm.ToolScript("elevated",
		[2]string{"name", t.Name}, [2]string{"user", t.User}, [2]string{"password", t.Password},
		[2]string{"command", t.Command}, [2]string{"log", t.Log}) + elevatedBody)
}

// elevatedBody starts with a comment, which ends the variables for a
// reader of the head. It registers $command as a scheduled task of $user (highest
// privileges; password logon, or service-account logon when $password
// is empty), runs it with its output redirected to $log, streams $log
// while the task runs, then removes the task, the log and this script
// (which holds the password) and exits with the task's result.
//
// Task Scheduler constants: TASK_ACTION_EXEC 0, TASK_LOGON_PASSWORD 1,
// TASK_LOGON_SERVICE_ACCOUNT 5, TASK_RUNLEVEL_HIGHEST 1,
// TASK_INSTANCES_IGNORE_NEW 2, TASK_CREATE_OR_UPDATE 6, states queued 2,
// running 4; results SCHED_S_TASK_RUNNING 267009 and
// SCHED_S_TASK_HAS_NOT_RUN 267011.
const elevatedBody = `# Run $command as $user through a scheduled task; print its output; exit with its result.
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
  $action.Arguments = "/c $command > ` + "`" + `"$log` + "`" + `" 2>&1"
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
`
