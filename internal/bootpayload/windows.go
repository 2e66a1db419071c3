package bootpayload

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/provisioners/file"
	"github.com/imgbuild/imgbuild/provisioners/powershell"
)

// windows renders <powershell> user data for EC2Launch.
type windows struct{ b bytes.Buffer }

func (w *windows) len() int { return w.b.Len() }

func (w *windows) end() []byte {
	w.b.WriteString("} finally {\n  Remove-Item -Recurse -Force -ErrorAction SilentlyContinue $d\n}\n</powershell>\n")
	return w.b.Bytes()
}

func (w *windows) begin(t Target) {
	fmt.Fprintf(&w.b, "<powershell>\n# imgbuild boot payload of %s (strategy %s): the provisioners not baked into\n", t.BuildName, t.Strategy)
	w.b.WriteString("# its image, in order. EC2Launch runs it once at first boot.\n$ErrorActionPreference = 'Stop'\n")
	w.b.WriteString("$d = Join-Path $env:TEMP ('imgbuild-payload-' + [guid]::NewGuid())\nNew-Item -ItemType Directory -Path $d | Out-Null\ntry {\n")
}

func (w *windows) part(t Target, n int, p Part) error {
	fmt.Fprintf(&w.b, "\n# %d: %s\nWrite-Output %s\n", n, p.label(), psQuote("imgbuild boot payload: "+p.label()))
	if p.PauseBefore > 0 {
		fmt.Fprintf(&w.b, "Start-Sleep -Seconds %d\n", int(math.Ceil(p.PauseBefore.Seconds())))
	}
	switch c := p.Config.(type) {
	case *powershell.Config:
		if err := w.powershell(t, n, p, c); err != nil {
			return err
		}
		if d := check.DurationValue(c.PauseAfter); d > 0 {
			fmt.Fprintf(&w.b, "Start-Sleep -Seconds %d\n", int(math.Ceil(d.Seconds())))
		}
		return nil
	case *file.Config:
		entries, err := fileEntries(t.BaseDir, c, true)
		if err != nil {
			return err
		}
		for _, e := range entries {
			fmt.Fprintf(&w.b, "New-Item -ItemType Directory -Force -Path %s | Out-Null\n", psQuote(parent(e.dst)))
			w.data(psQuote(e.dst), e.data)
		}
		return nil
	default:
		return fmt.Errorf("cannot be deferred to a Windows boot payload")
	}
}

// powershell writes each script to a .ps1 and runs it in a new
// PowerShell with the environment.
func (w *windows) powershell(t Target, n int, p Part, c *powershell.Config) error {
	bodies, err := scripts(t.BaseDir, c.Source, func(lines []string) string {
		return strings.Join(lines, "\n") + "\n"
	}, false)
	if err != nil {
		return err
	}
	vars := c.Env.Vars(t.BuildName, t.BuilderType)
	exe := "powershell"
	if c.UsePwsh {
		exe = "pwsh"
	}
	exe += " -NoProfile"
	if c.ExecutionPolicy != "" && c.ExecutionPolicy != "none" {
		exe += " -ExecutionPolicy " + c.ExecutionPolicy
	}
	codes := make([]string, len(c.ValidExitCodes))
	for i, code := range c.ValidExitCodes {
		codes[i] = strconv.Itoa(code)
	}
	for i, body := range bodies {
		f := fmt.Sprintf(`"$d\%d-%d.ps1"`, n, i+1)
		fmt.Fprintf(&w.b, "# %s\n", scriptName(c.Source, i, t.BaseDir))
		w.data(f, body)
		for _, v := range vars {
			fmt.Fprintf(&w.b, "${env:%s} = %s\n", v.Name, psQuote(v.Value))
		}
		fmt.Fprintf(&w.b, "& %s -File %s\n$rc = $LASTEXITCODE\n", exe, f)
		for _, v := range vars {
			fmt.Fprintf(&w.b, "Remove-Item -LiteralPath %s -ErrorAction SilentlyContinue\n", psQuote("Env:"+v.Name))
		}
		fmt.Fprintf(&w.b, "if (@(%s) -notcontains $rc) { throw (%s + $rc) }\n", strings.Join(codes, ","),
			psQuote(fmt.Sprintf("imgbuild boot payload: %s script %d exited with ", p.label(), i+1)))
	}
	return nil
}

// data writes data to the file dst (a PowerShell string expression).
func (w *windows) data(dst string, data []byte) {
	fmt.Fprintf(&w.b, "[IO.File]::WriteAllBytes(%s, [Convert]::FromBase64String('%s'))\n", dst, base64.StdEncoding.EncodeToString(data))
}

// psQuote quotes s as a PowerShell single-quoted string.
func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
