package sysprep

import (
	"github.com/imgbuild/imgbuild/internal/provision/provisiontest"

	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/interpolate"
	"github.com/imgbuild/imgbuild/internal/provision"
)

// Source images of each agent.
const (
	image2022 = "Windows_Server-2022-English-Full-Base-2024.01.10"
	image2019 = "Windows_Server-2019-English-Full-Base-2023.08.10"
	image2012 = "Windows_Server-2012-R2_RTM-English-64Bit-Base-2023.08.10"
)

var imageOf = map[Agent]string{EC2LaunchV2: image2022, EC2LaunchV1: image2019, EC2Config: image2012}

const buildPassword = "Corr3ct-Horse!"

// run is one run of the provisioner on a fake instance.
type run struct {
	fake *provisiontest.Comm
	out  string
	log  string
	err  error
}

// provisionWith prepares c and runs it on a new fake instance built from
// image, connected as Administrator with buildPassword.
func provisionWith(t *testing.T, c Config, image string, edit func(*provisiontest.Comm, *provision.Env)) run {
	t.Helper()
	ctx := &check.Context{}
	c.Prepare(ctx)
	if ctx.HasErrors() {
		t.Fatalf("Prepare: %v", ctx.Diags)
	}
	fake := provisiontest.NewComm()
	var out, log bytes.Buffer
	env := &provision.Env{
		Comm:   fake,
		Out:    &out,
		Data:   interpolate.Data{SourceAMIName: image, User: "Administrator", Password: buildPassword},
		Logger: hclog.New(&hclog.LoggerOptions{Output: &log, Level: hclog.Debug}),
	}
	if edit != nil {
		edit(fake, env)
	}
	err := c.Provision(context.Background(), env)
	return run{fake: fake, out: out.String(), log: log.String(), err: err}
}

var (
	preparePathRE = regexp.MustCompile(`^C:/Windows/Temp/imgbuild-sysprep-([0-9a-f]{8})\.ps1$`)
	runPathRE     = regexp.MustCompile(`^C:/Windows/Temp/imgbuild-sysprep-([0-9a-f]{8})-run\.ps1$`)
)

// scripts checks what the provisioner sent, in order: the prepare script
// uploaded and run, then the run script uploaded and run. It returns both
// scripts.
func (r run) scripts(t *testing.T) (prepare, sysprep string) {
	t.Helper()
	f := r.fake
	if len(f.Uploads) != 2 || len(f.Commands) != 2 {
		t.Fatalf("uploads %q, commands %q; want two of each", f.Uploads, f.Commands)
	}
	p, s := preparePathRE.FindStringSubmatch(f.Uploads[0]), runPathRE.FindStringSubmatch(f.Uploads[1])
	if p == nil || s == nil || p[1] != s[1] {
		t.Fatalf("uploads %q are not the prepare and run scripts of one run", f.Uploads)
	}
	for i, path := range f.Uploads {
		if want := "powershell -NoProfile -ExecutionPolicy Bypass -File " + path; f.Commands[i] != want {
			t.Errorf("command %d = %q, want %q", i, f.Commands[i], want)
		}
	}
	return string(f.Files[f.Uploads[0]]), string(f.Files[f.Uploads[1]])
}

func TestProvisionPerAgent(t *testing.T) {
	for _, agent := range Agents {
		t.Run(string(agent), func(t *testing.T) {
			r := provisionWith(t, Config{}, imageOf[agent], nil)
			if r.err != nil {
				t.Fatal(r.err)
			}
			prepare, sysprep := r.scripts(t)
			// The run script holds the documented command, with shutdown.
			if !strings.Contains(sysprep, "\n"+agent.SysprepCommand()+"\nexit $LASTEXITCODE\n") {
				t.Errorf("run script does not run %s:\n%s", agent.SysprepCommand(), sysprep)
			}
			if stops, _ := stopsGuest(sysprep); !stops {
				t.Errorf("the guest would not take the run script for Sysprep with shutdown:\n%s", sysprep)
			}
			// Only the run script shuts Windows down.
			if stops, pattern := stopsGuest(prepare); stops {
				t.Errorf("the prepare script matches %s:\n%s", pattern, prepare)
			}
			if agent == EC2LaunchV2 && strings.Contains(strings.ToLower(prepare), "sysprep") {
				t.Errorf("the EC2Launch v2 prepare script names sysprep:\n%s", prepare)
			}
			for _, s := range []string{prepare, sysprep} {
				if isToolScript(s) || !strings.Contains(s, "Remove-Item -LiteralPath $MyInvocation.MyCommand.Path") {
					t.Errorf("script is a tool script or does not remove itself:\n%s", s)
				}
			}
			want := "sysprep: agent " + agent.DisplayName() + " (source image " + imageOf[agent] + ")"
			if !strings.Contains(r.log, want) || !strings.Contains(r.out, "Sysprep with "+agent.DisplayName()) {
				t.Errorf("log %q and output %q do not say %q", r.log, r.out, want)
			}
			if !strings.Contains(r.out, agent.SysprepCommand()) {
				t.Errorf("output does not show the Sysprep command:\n%s", r.out)
			}
		})
	}
}

// TestPrepareScriptOptions: each option changes the prepare script of each
// agent as documented.
func TestPrepareScriptOptions(t *testing.T) {
	const (
		v2Random   = "$inputs['password'] = [pscustomobject][ordered]@{ type = 'random' }"
		v2Static   = "$inputs['password'] = [pscustomobject][ordered]@{ type = 'static'; data = $password }"
		v2HostName = "Add-Task 'postReady' ([pscustomobject][ordered]@{ task = 'setHostName'; inputs = [pscustomobject][ordered]@{ reboot = $true } })"
		v2Admin    = "Add-Task 'preReady' ([pscustomobject][ordered]@{ task = 'setAdminAccount'; inputs = [pscustomobject]$inputs })"
		v2Remove   = "$_.task -ne 'setAdminAccount' -and $_.task -ne 'setHostName'"
		v2Validate = "Invoke-Agent 'validate'"
		passLine   = "$password = '" + buildPassword + "'\n"
		cleanTemp  = "# clean_temp: empty the temporary folders"
		zero       = "# zero_free_space: overwrite the free space"
	)
	tests := []struct {
		name     string
		agent    Agent
		c        Config
		want     []string
		dontWant []string
	}{
		{"v2 defaults", EC2LaunchV2, Config{},
			[]string{v2Random, v2Admin, v2Remove, v2Validate, "get-agent-config', '--format', 'json'", cleanTemp},
			[]string{v2Static, v2HostName, "$password =", zero}},
		{"v2 keep", EC2LaunchV2, Config{AdminPassword: "keep"},
			[]string{passLine, v2Static, v2Admin}, []string{v2Random}},
		{"v2 computer_name", EC2LaunchV2, Config{ComputerName: true},
			[]string{v2HostName, v2Random}, nil},
		{"v1 defaults", EC2LaunchV1, Config{},
			[]string{"Set-Member $config 'adminPasswordType' 'Random'\n", "Set-Member $config 'adminPassword' ''\n",
				"Set-Member $config 'setComputerName' $false\n", "Set-Member $config 'handleUserData' $true\n",
				"LaunchConfig.json", "& $initialize -Schedule", cleanTemp},
			[]string{"$password", "'Specify'", zero}},
		{"v1 keep", EC2LaunchV1, Config{AdminPassword: "keep"},
			[]string{passLine, "Set-Member $config 'adminPasswordType' 'Specify'\n", "Set-Member $config 'adminPassword' $password\n"},
			[]string{"'Random'"}},
		{"v1 computer_name", EC2LaunchV1, Config{ComputerName: true},
			[]string{"Set-Member $config 'setComputerName' $true\n"}, nil},
		{"v1 no user data", EC2LaunchV1, Config{RunUserData: ptr(false)},
			[]string{"Set-Member $config 'handleUserData' $false\n", "& $initialize -Schedule"}, nil},
		{"ec2config defaults", EC2Config, Config{},
			[]string{`"//Plugin[Name='Ec2SetPassword']/State" 'Enabled'`, `"//Plugin[Name='Ec2SetComputerName']/State" 'Disabled'`,
				`"//Plugin[Name='Ec2HandleUserData']/State" 'Enabled'`, `"//Property[Name='SetPasswordAfterSysprep']/Value" 'Yes'`, cleanTemp},
			[]string{"ScramblePassword", "$password", zero}},
		{"ec2config keep", EC2Config, Config{AdminPassword: "keep"},
			[]string{`"//Plugin[Name='Ec2SetPassword']/State" 'Disabled'`, `"//Property[Name='SetPasswordAfterSysprep']/Value" 'No'`,
				"[contains(., 'ScramblePassword')]", "$answer.Save($answerPath)"},
			[]string{"$password", buildPassword}},
		{"ec2config computer_name", EC2Config, Config{ComputerName: true},
			[]string{`"//Plugin[Name='Ec2SetComputerName']/State" 'Enabled'`}, nil},
		{"ec2config no user data", EC2Config, Config{RunUserData: ptr(false)},
			[]string{`"//Plugin[Name='Ec2HandleUserData']/State" 'Disabled'`}, nil},
		{"no clean_temp", EC2LaunchV2, Config{CleanTemp: ptr(false)}, nil, []string{cleanTemp, "Get-ChildItem"}},
		{"zero_free_space", EC2LaunchV1, Config{ZeroFreeSpace: true},
			[]string{zero, "imgbuild-zero.tmp", "[System.IO.FileOptions]::WriteThrough", "Remove-Item -LiteralPath $zeroPath"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := provisionWith(t, tt.c, imageOf[tt.agent], nil)
			if r.err != nil {
				t.Fatal(r.err)
			}
			prepare, _ := r.scripts(t)
			for _, s := range tt.want {
				if !strings.Contains(prepare, s) {
					t.Errorf("prepare script has no %q:\n%s", s, prepare)
				}
			}
			for _, s := range tt.dontWant {
				if strings.Contains(prepare, s) {
					t.Errorf("prepare script has %q:\n%s", s, prepare)
				}
			}
			if strings.Contains(r.out, buildPassword) || strings.Contains(strings.Join(r.fake.Commands, "\n"), buildPassword) {
				t.Error("the output or a command shows the password")
			}
			// Cleanup comes after the agent's settings.
			if i := strings.Index(prepare, cleanTemp); i >= 0 && i < strings.Index(prepare, "Write-Output \"EC2") {
				t.Errorf("clean_temp runs before the agent's settings:\n%s", prepare)
			}
		})
	}
}

// TestUserDataV2: EC2Launch v2 always runs user data; run_user_data =
// false changes nothing in its script and says so.
func TestUserDataV2(t *testing.T) {
	on := provisionWith(t, Config{}, image2022, nil)
	off := provisionWith(t, Config{RunUserData: ptr(false)}, image2022, nil)
	if on.err != nil || off.err != nil {
		t.Fatal(on.err, off.err)
	}
	p1, _ := on.scripts(t)
	p2, _ := off.scripts(t)
	if p1 != p2 {
		t.Errorf("run_user_data = false changes the EC2Launch v2 script")
	}
	if !strings.Contains(off.out, "run_user_data = false has no effect with EC2Launch v2") {
		t.Errorf("output does not warn:\n%s", off.out)
	}
}

func TestQuotePassword(t *testing.T) {
	r := provisionWith(t, Config{AdminPassword: "keep"}, image2019, func(_ *provisiontest.Comm, env *provision.Env) {
		env.Data.Password = "it's ’quoted‘ $x"
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
	prepare, _ := r.scripts(t)
	if want := "$password = 'it''s ’’quoted‘‘ $x'\n"; !strings.Contains(prepare, want) {
		t.Errorf("prepare script has no %q:\n%s", want, prepare)
	}
}

func TestChooseAgent(t *testing.T) {
	tests := []struct {
		name  string
		c     Config
		image string
		want  Agent
		why   string
	}{
		{"agent wins", Config{Agent: "ec2config"}, image2022, EC2Config, `agent = "ec2config"`},
		{"windows_version", Config{WindowsVersion: "2019"}, "my-golden-image", EC2LaunchV1, `windows_version = "2019"`},
		{"image", Config{}, "EC2LaunchV2-Windows_Server-2016-English-Full-Base-2023.08.10", EC2LaunchV2, "source image EC2LaunchV2-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := provisionWith(t, tt.c, tt.image, nil)
			if r.err != nil {
				t.Fatal(r.err)
			}
			_, sysprep := r.scripts(t)
			if !strings.Contains(sysprep, tt.want.SysprepCommand()) || !strings.Contains(r.out, tt.want.DisplayName()+" ("+tt.why) {
				t.Errorf("output %q, run script %q; want %s chosen by %s", r.out, sysprep, tt.want, tt.why)
			}
		})
	}
}

// TestFailures: what fails before Sysprep runs, and what does not.
func TestFailures(t *testing.T) {
	answer := func(prepare, sysprep func(io.Writer) (int, error)) func(*provisiontest.Comm, *provision.Env) {
		return func(f *provisiontest.Comm, _ *provision.Env) {
			f.Answer = func(command string, stdout io.Writer) (int, error) {
				if strings.Contains(command, "-run.ps1") {
					return sysprep(stdout)
				}
				return prepare(stdout)
			}
		}
	}
	ok := func(io.Writer) (int, error) { return 0, nil }
	tests := []struct {
		name     string
		c        Config
		image    string
		edit     func(*provisiontest.Comm, *provision.Env)
		commands int      // commands run
		want     []string // in the error; none: success
		out      string   // in the output
	}{
		{"disconnect after sysprep is success", Config{}, image2022,
			answer(ok, func(w io.Writer) (int, error) {
				io.WriteString(w, "sysprep starting\n")
				return -1, provisiontest.ErrDisconnected
			}),
			2, nil, "connection closed as Windows shuts down"},
		{"exit 0 is success", Config{}, image2019, nil, 2, nil, "Sysprep started"},
		{"sysprep fails", Config{}, image2019, answer(ok, func(io.Writer) (int, error) { return 1, nil }),
			2, []string{"EC2Launch v1", "status 1", EC2LaunchV1.SysprepCommand()}, ""},
		{"sysprep fails for v2", Config{}, image2022, answer(ok, func(io.Writer) (int, error) { return 2, nil }),
			2, []string{"EC2Launch v2", "status 2", `ec2launch.exe" sysprep --shutdown --clean`}, ""},
		{"prepare fails", Config{}, image2012, answer(func(io.Writer) (int, error) { return 1, nil }, ok),
			1, []string{"EC2Config settings script exited with status 1", "Sysprep did not run"}, ""},
		{"prepare disconnects", Config{}, image2012, answer(func(io.Writer) (int, error) { return -1, provisiontest.ErrDisconnected }, ok),
			1, []string{"run the EC2Config settings script", "connection lost"}, ""},
		{"unknown image", Config{}, "my-golden-image", nil,
			0, []string{`"my-golden-image"`, "agent", "windows_version"}, ""},
		{"keep as another user", Config{AdminPassword: "keep"}, image2022,
			func(_ *provisiontest.Comm, env *provision.Env) { env.Data.User = "builder" },
			0, []string{`connects as "builder"`, "Administrator"}, ""},
		{"keep without password", Config{AdminPassword: "keep"}, image2019,
			func(_ *provisiontest.Comm, env *provision.Env) { env.Data.Password = "" },
			0, []string{"keep", "winrm_password"}, ""},
		{"keep with EC2Config needs no password", Config{AdminPassword: "keep"}, image2012,
			func(_ *provisiontest.Comm, env *provision.Env) { env.Data.User, env.Data.Password = "builder", "" },
			2, nil, ""},
		{"no communicator", Config{}, image2022,
			func(_ *provisiontest.Comm, env *provision.Env) { env.Comm = nil },
			0, []string{`communicator = "none"`}, ""},
		{"upload retried after reconnecting", Config{}, image2022,
			func(f *provisiontest.Comm, _ *provision.Env) { f.FailUploads = 1 },
			2, nil, ""},
		{"upload fails", Config{}, image2022,
			func(f *provisiontest.Comm, _ *provision.Env) { f.FailUploads = 2 },
			0, []string{"upload the EC2Launch v2 settings script", "connection lost"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := provisionWith(t, tt.c, tt.image, tt.edit)
			if len(r.fake.Commands) != tt.commands {
				t.Errorf("commands %q, want %d", r.fake.Commands, tt.commands)
			}
			if len(tt.want) == 0 && r.err != nil {
				t.Fatalf("Provision: %v", r.err)
			}
			if len(tt.want) > 0 && r.err == nil {
				t.Fatal("Provision succeeded")
			}
			for _, s := range tt.want {
				if !strings.Contains(r.err.Error(), s) {
					t.Errorf("error %q does not say %q", r.err, s)
				}
			}
			if r.err != nil && strings.Contains(r.err.Error(), buildPassword) {
				t.Errorf("error shows the password: %v", r.err)
			}
			if !strings.Contains(r.out, tt.out) {
				t.Errorf("output does not say %q:\n%s", tt.out, r.out)
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	var c Config
	c.Prepare(&check.Context{})
	fake := provisiontest.NewComm()
	ctx, cancel := context.WithCancel(context.Background())
	fake.Answer = func(command string, _ io.Writer) (int, error) {
		if strings.Contains(command, "-run.ps1") {
			cancel()
			return -1, context.Canceled
		}
		return 0, nil
	}
	err := c.Provision(ctx, &provision.Env{Comm: fake, Out: io.Discard, Data: interpolate.Data{SourceAMIName: image2022}})
	if err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("Provision = %v, want the cancellation", err)
	}
}
