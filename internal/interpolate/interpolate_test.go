package interpolate

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func testData() Data {
	return Data{
		SourceAMI:             "ami-12345678",
		SourceAMIName:         "ubuntu/images/noble",
		SourceAMIOwner:        "099720109477",
		SourceAMIOwnerName:    "canonical",
		SourceAMICreationDate: "2024-01-02T03:04:05.000Z",
		SourceAMITags:         map[string]string{"Name": "base", "os": "linux"},
		BuildRegion:           "eu-west-1",
		BuildName:             "web",
		BuildType:             "amazon-ebs",
		Now:                   time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no placeholder", "plain {text} $x", "plain {text} $x"},
		{"timestamp", "img-{{timestamp}}", "img-1714979289"},
		{"timestamp spaced", "img-{{ timestamp }}", "img-1714979289"},
		{"isotime default", "{{isotime}}", "2024-05-06T07:08:09Z"},
		{"isotime layout", `{{isotime "2006-01-02"}}`, "2024-05-06"},
		{"packer_version", "built by packer {{packer_version}}", "built by packer 1.16.0"},
		{"strftime", `{{strftime "%Y%m%d-%H%M%S"}}`, "20240506-070809"},
		{"source ami fields", "{{ .SourceAMI }} {{ .SourceAMIName }} {{.SourceAMIOwner}} {{.SourceAMIOwnerName}}", "ami-12345678 ubuntu/images/noble 099720109477 canonical"},
		{"creation date", "{{ .SourceAMICreationDate }}", "2024-01-02T03:04:05.000Z"},
		{"tags", "{{ .SourceAMITags.Name }}-{{ .SourceAMITags.os }}", "base-linux"},
		{"region", "copy-{{ .BuildRegion }}", "copy-eu-west-1"},
		{"build name", "{{ .BuildName }}/{{ build_name }}/{{ build_type }}", "web/web/amazon-ebs"},
		{"clean_resource_name", `{{ clean_resource_name "a:b*c (d)" }}`, "a-b-c (d)"},
		{"clean pipe", `{{ isotime | clean_resource_name }}`, "2024-05-06T07-08-09Z"},
		{"lower upper", `{{ lower "AbC" }}{{ upper "dEf" }}`, "abcDEF"},
		{"replace", `{{ replace "a" "b" 1 "aaa" }}`, "baa"},
		{"replace_all", `{{ replace_all "a" "b" "aaa" }}`, "bbb"},
		{"split", `{{ split "a-b-c" "-" 1 }}`, "b"},
		{"pipeline", `{{ .SourceAMIName | upper }}`, "UBUNTU/IMAGES/NOBLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.in, testData())
			if err != nil {
				t.Fatalf("Render(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Render(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRenderUUID(t *testing.T) {
	got, err := Render("{{uuid}}", testData())
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(got) {
		t.Errorf("uuid rendered %q", got)
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"unknown field", "{{ .Nope }}", "Nope"},
		{"unknown func", "{{ nope }}", `"nope" not defined`},
		{"syntax", "{{ timestamp ", "unclosed action"},
		{"missing tag", "{{ .SourceAMITags.missing }}", "missing"},
		{"split out of range", `{{ split "a-b" "-" 5 }}`, "out of range"},
		{"isotime two args", `{{ isotime "a" "b" }}`, "at most one"},
		{"path is not ours", "{{ .Path }}", "Path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.in, testData())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Render(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
			}
			if err := Check(tt.in); (err == nil) != (tt.name == "missing tag") {
				t.Errorf("Check(%q) = %v; want an error, except for a tag of the source image, unknown before the build", tt.in, err)
			}
		})
	}
}

func TestCheckAndSample(t *testing.T) {
	for _, s := range []string{"plain", "{{timestamp}}", "{{ .SourceAMIName }}-{{ .BuildRegion }}", "{{ .SourceAMITags.Name }}"} {
		t.Run(s, func(t *testing.T) {
			if err := Check(s); err != nil {
				t.Errorf("Check(%q) = %v", s, err)
			}
		})
	}
	got, err := RenderSample("x-{{timestamp}}")
	if err != nil || got != "x-1700000000" {
		t.Errorf("RenderSample = %q, %v; want x-1700000000", got, err)
	}
}

func TestCleanResourceName(t *testing.T) {
	tests := map[string]string{
		"ok name (1) [x] a/b.c-d'e@f_g": "ok name (1) [x] a/b.c-d'e@f_g",
		"a:b,c":                         "a-b-c",
		"é":                             "-",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := CleanResourceName(in); got != want {
				t.Errorf("CleanResourceName(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestRenderBuild(t *testing.T) {
	d := Data{ID: "i-1", Password: "p@ss", WinRMPassword: "p@ss", SourceAMI: "ami-1", Host: "10.0.0.1"}
	for in, want := range map[string]string{
		"no placeholders":                         "no placeholders",
		"{{ .Password }}":                         "p@ss",
		"-p {{.WinRMPassword}} on {{ .Host }}":    "-p p@ss on 10.0.0.1",
		"&'{{.Path}}' {{ .ID }}":                  "&'{{.Path}}' i-1",
		"{{ .Vars }}{{.SourceAMI}} {{timestamp}}": "{{ .Vars }}ami-1 {{timestamp}}",
	} {
		if got := RenderBuild(in, d); got != want {
			t.Errorf("RenderBuild(%q) = %q, want %q", in, got, want)
		}
	}
}
