package winrm

import (
	mwinrm "github.com/masterzen/winrm"
)

// The PowerShell bodies of the communicator's tool scripts. Each follows
// the head written by ToolScript and runs on a real Windows host
// (PowerShell 5.1 and later) with the head's variables. They are kept
// short: the encoded command must fit cmd.exe's 8191-character command
// line. Paths may use "/" or "\" and %VAR% or $env:VAR references, which
// are expanded (but nothing else in them is evaluated). A failure prints
// one message on stderr and exits 1.

// psPrelude stops on every error and defines the path expansion.
const psPrelude = `$ErrorActionPreference = 'Stop'
function ImgbuildPath([string]$p) { [System.Environment]::ExpandEnvironmentVariables(($p -replace '\$env:(\w+)', '%$1%')) }
`

// psCatch ends the try block every body opens.
const psCatch = `} catch { [Console]::Error.WriteLine($_.Exception.Message); exit 1 }
exit 0
`

// restoreBody decodes the base64 lines of $src (appended by "echo" chunk
// commands) into $dst, creating dst's parent directories and replacing
// dst, then deletes $src whatever happened. An empty $src makes dst empty.
const restoreBody = psPrelude + `try {
$d = ImgbuildPath $dst
if ([System.IO.Directory]::Exists($d)) { throw "cannot write ${d}: it is a directory" }
$s = ''
if ($src -ne '') {
$s = ImgbuildPath $src
if (-not [System.IO.File]::Exists($s)) { throw "cannot write ${d}: the uploaded data ${s} is missing" }
}
$p = [System.IO.Path]::GetDirectoryName([System.IO.Path]::GetFullPath($d))
if ($p) { [void][System.IO.Directory]::CreateDirectory($p) }
$o = [System.IO.File]::Create($d)
try {
if ($s -ne '') {
$r = [System.IO.File]::OpenText($s)
try {
while ($null -ne ($l = $r.ReadLine())) {
$l = $l.Trim()
if ($l.Length -gt 0) { $b = [System.Convert]::FromBase64String($l); $o.Write($b, 0, $b.Length) }
}
} finally { $r.Dispose() }
}
} finally { $o.Dispose() }
} catch { [Console]::Error.WriteLine($_.Exception.Message); exit 1 } finally {
if ($src -ne '') { $s = ImgbuildPath $src; if ([System.IO.File]::Exists($s)) { [System.IO.File]::Delete($s) } }
}
exit 0
`

// mkdirBody creates $path and its parents.
const mkdirBody = psPrelude + `try {
$p = ImgbuildPath $path
if ([System.IO.File]::Exists($p)) { throw "cannot create directory ${p}: a file has that name" }
[void][System.IO.Directory]::CreateDirectory($p)
` + psCatch

// downloadBody prints the content of the file $path as one base64 line.
// It reads blocks of a multiple of 3 bytes, so the encoded blocks join
// into one base64 text without padding in between.
const downloadBody = psPrelude + `try {
$p = ImgbuildPath $path
if ([System.IO.Directory]::Exists($p)) { throw "cannot download ${p}: it is a directory" }
if (-not [System.IO.File]::Exists($p)) { throw "cannot download ${p}: no such file" }
$f = [System.IO.File]::OpenRead($p)
try {
$b = New-Object byte[] 196608
$o = [Console]::Out
do {
$n = 0
while ($n -lt $b.Length) { $r = $f.Read($b, $n, $b.Length - $n); if ($r -le 0) { break }; $n += $r }
if ($n -gt 0) { $o.Write([System.Convert]::ToBase64String($b, 0, $n)) }
} while ($n -eq $b.Length)
$o.WriteLine()
$o.Flush()
} finally { $f.Dispose() }
` + psCatch

// listBody prints every entry under the directory $path, recursively, one
// per line: "d <relative path>" or "f <size> <relative path>", with "\"
// separators. A directory comes before its entries.
const listBody = psPrelude + `try {
$p = ImgbuildPath $path
if (-not [System.IO.Directory]::Exists($p)) { throw "cannot list ${p}: not a directory" }
$root = [System.IO.Path]::GetFullPath($p)
if (-not $root.EndsWith('\')) { $root += '\' }
$o = [Console]::Out
foreach ($e in [System.IO.Directory]::EnumerateFileSystemEntries($root, '*', [System.IO.SearchOption]::AllDirectories)) {
$rel = $e.Substring($root.Length)
if ([System.IO.Directory]::Exists($e)) { $o.WriteLine('d ' + $rel) } else { $o.WriteLine('f ' + (New-Object System.IO.FileInfo -ArgumentList $e).Length + ' ' + $rel) }
}
$o.Flush()
` + psCatch

// toolCommand returns the command line that runs the tool script op with
// vars and body: powershell.exe -EncodedCommand <base64 of UTF-16LE>.
func toolCommand(op, body string, vars ...Var) string {
	return mwinrm.Powershell(ToolScript(op, vars...) + body)
}
