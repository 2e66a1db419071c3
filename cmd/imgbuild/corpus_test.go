package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// corpusCases are the Packer templates of examples/packer-corpus, written
// from Packer's documentation and common patterns, each validated as a user
// would: from the directory given, with Packer's arguments. wantErr empty
// means validate must succeed; otherwise it must fail with that substring
// (a feature not implemented yet: flip the case to "" once it is).
var corpusCases = []struct {
	name    string
	dir     string // working directory, under examples/packer-corpus
	args    []string
	env     map[string]string
	wantErr string
}{
	{name: "ebs-basic", dir: "01-ebs-basic", args: []string{"template.pkr.hcl"}},
	{name: "varfile", dir: "02-varfile", args: []string{"-var-file=prod.pkrvars.hcl", "."}},
	{name: "multi-source", dir: "03-multi-source", args: []string{"."}},
	{name: "windows-winrm", dir: "04-windows-winrm", args: []string{"."}},
	{name: "spot", dir: "05-spot", args: []string{"."}},
	{name: "bastion", dir: "06-bastion", args: []string{"."}},
	{name: "instance-store", dir: "07-instance-store", args: []string{"."}},
	{name: "ami-datasource", dir: "08-ami-datasource", args: []string{"."}},
	{name: "locals-manifest", dir: "09-locals-manifest", args: []string{"."}},
	{name: "build-name-tags", dir: "10-build-name-tags", args: []string{"."}},
	{name: "legacy-json", dir: "11-legacy-json", args: []string{"template.json"}},
	{name: "parameterstore", dir: "12-parameterstore", args: []string{"."}},
	{name: "shell-local-pp", dir: "13-shell-local-pp", args: []string{"."}},
	{name: "env-default", dir: "14-env-default", args: []string{"."}, env: map[string]string{"AWS_DEFAULT_REGION": "eu-west-1"}},
	{name: "data-http", dir: "15-data-http", args: []string{"."}},
	{name: "dynamic-block", dir: "16-dynamic-block", args: []string{"."}},
	{name: "path-root-from-repo-root", dir: "17-path-root", args: []string{"templates/al2023/template.pkr.hcl"}},
	{name: "region-from-env", dir: "18-region-from-env", args: []string{"."}, env: map[string]string{"AWS_REGION": "eu-west-1"}},
	{name: "region-from-nowhere", dir: "18-region-from-env", args: []string{"."}, wantErr: "Missing region"},
}

// TestPackerCorpusValidates runs `imgbuild validate` on every corpus
// template. It changes the working directory, so it is not parallel.
func TestPackerCorpusValidates(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", "examples", "packer-corpus"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range corpusCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(filepath.Join(root, tc.dir))
			// The SDK reads the region from the process environment and
			// the shared config files, not through getenv.
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
			for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"} {
				t.Setenv(k, tc.env[k])
			}
			getenv := func(k string) string {
				if v, ok := tc.env[k]; ok {
					return v
				}
				switch k {
				case "HOME":
					return t.TempDir()
				case "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY":
					return "corpus"
				}
				return ""
			}
			var out, errOut bytes.Buffer
			code := realMain(append([]string{"validate"}, tc.args...), &out, &errOut, getenv)
			all := out.String() + errOut.String()
			switch {
			case tc.wantErr == "" && code != 0:
				t.Errorf("validate exited %d, want success:\n%s", code, all)
			case tc.wantErr != "" && code == 0:
				t.Errorf("validate succeeded; the feature works now: set wantErr to \"\" for this case\n%s", all)
			case tc.wantErr != "" && !strings.Contains(all, tc.wantErr):
				t.Errorf("validate failed without %q:\n%s", tc.wantErr, all)
			}
		})
	}
}
