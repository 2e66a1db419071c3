// Package interpolate renders Packer's legacy Go-template placeholders, such
// as {{timestamp}} or {{ .SourceAMIName }}, that stay inside string values
// after HCL decoding and are rendered late, once per build and region.
//
// The placeholders of execute_command ({{.Path}}, {{.Vars}}) are not handled
// here: each provisioner renders those with its own data.
package interpolate

import (
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"time"
)

// Data is what a legacy placeholder can refer to. The field names are the
// ones Packer's amazon builders expose as build information.
type Data struct {
	SourceAMI             string            // {{ .SourceAMI }}: ID of the source AMI
	SourceAMIName         string            // {{ .SourceAMIName }}
	SourceAMIOwner        string            // {{ .SourceAMIOwner }}: owner account ID
	SourceAMIOwnerName    string            // {{ .SourceAMIOwnerName }}: owner alias, e.g. "amazon"
	SourceAMICreationDate string            // {{ .SourceAMICreationDate }}
	SourceAMITags         map[string]string // {{ .SourceAMITags.Name }}
	BuildRegion           string            // {{ .BuildRegion }}: region the value is rendered for
	BuildName             string            // {{ .BuildName }} and {{ build_name }}
	BuildType             string            // {{ build_type }}, e.g. "amazon-ebs"

	// The connection to the build instance (Packer's build.* values),
	// known once the instance is running and connected.
	ID            string // {{ .ID }}: the build instance's ID
	Host          string // {{ .Host }}: the address the communicator connects to
	Port          string // {{ .Port }}
	User          string // {{ .User }}: ssh_username or winrm_username
	Password      string // {{ .Password }}: ssh_password, winrm_password or the retrieved Windows password (a secret)
	WinRMPassword string // {{ .WinRMPassword }}: the WinRM password (a secret)
	ConnType      string // {{ .ConnType }}: "ssh" or "winrm"
	PackerRunUUID string // {{ .PackerRunUUID }}: the run's ID
	SSHPublicKey  string // {{ .SSHPublicKey }}: the temporary key's authorized_keys line
	SSHPrivateKey string // {{ .SSHPrivateKey }}: the temporary private key, PEM (a secret)

	// Now is the time {{timestamp}} and {{isotime}} render. It is fixed
	// once per run so every region and every field agree.
	Now time.Time
}

// SampleTime is the time Sample uses: {{timestamp}} renders 1700000000.
var SampleTime = time.Unix(1700000000, 0).UTC()

// Sample returns data with plausible values for offline validation. Every
// value only uses characters valid in an AMI name.
func Sample() Data {
	return Data{
		SourceAMI:             "ami-0123456789abcdef0",
		SourceAMIName:         "sample-source-image",
		SourceAMIOwner:        "123456789012",
		SourceAMIOwnerName:    "amazon",
		SourceAMICreationDate: "2023-11-14T22:13:20.000Z",
		SourceAMITags:         map[string]string{},
		BuildRegion:           "us-east-1",
		BuildName:             "sample",
		ID:                    "i-0123456789abcdef0",
		Host:                  "192.0.2.10",
		Port:                  "22",
		User:                  "sample-user",
		Password:              "sample-password",
		WinRMPassword:         "sample-password",
		ConnType:              "ssh",
		PackerRunUUID:         "00000000-0000-4000-8000-000000000000",
		SSHPublicKey:          "ssh-ed25519 AAAA sample",
		SSHPrivateKey:         "-----BEGIN OPENSSH PRIVATE KEY-----",
		BuildType:             "amazon-ebs",
		Now:                   SampleTime,
	}
}

// Contains reports whether s holds a legacy placeholder.
func Contains(s string) bool { return strings.Contains(s, "{{") }

// Render returns s with its legacy placeholders rendered from data. Strings
// without "{{" are returned unchanged. Referring to a field Data does not
// have, to a missing SourceAMITags key, or calling an unknown function is an
// error.
func Render(s string, data Data) (string, error) {
	return render(s, data, "error")
}

// render is Render with the text/template missingkey option for the
// SourceAMITags map.
func render(s string, data Data, missingKey string) (string, error) {
	if !Contains(s) {
		return s, nil
	}
	tpl, err := parse(s, data, missingKey)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := tpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render %q: %w", s, err)
	}
	return b.String(), nil
}

// buildVar matches a placeholder that names one field, as build.<name>
// leaves in HCL values ("{{ .Password }}") and legacy templates write it
// ("{{.WinRMPassword}}").
var buildVar = regexp.MustCompile(`\{\{\s*\.([A-Za-z]+)\s*\}\}`)

// RenderBuild replaces the placeholders of the build's connection values
// (ID, Host, Port, User, Password, WinRMPassword, ConnType, PackerRunUUID,
// SSHPublicKey, SSHPrivateKey) and of the source image in s, leaving every
// other placeholder, such as a provisioner's own {{.Path}}, as it is.
func RenderBuild(s string, data Data) string { return BuildRenderer(data)(s) }

// BuildRenderer returns RenderBuild for data, with the values looked up
// once, for rendering many strings.
func BuildRenderer(data Data) func(string) string {
	vals := data.buildValues()
	return func(s string) string {
		if !Contains(s) {
			return s
		}
		return buildVar.ReplaceAllStringFunc(s, func(m string) string {
			if v, ok := vals[buildVar.FindStringSubmatch(m)[1]]; ok {
				return v
			}
			return m
		})
	}
}

func (d Data) buildValues() map[string]string {
	return map[string]string{
		"ID": d.ID, "Host": d.Host, "Port": d.Port, "User": d.User, "Password": d.Password,
		"WinRMPassword": d.WinRMPassword, "ConnType": d.ConnType, "PackerRunUUID": d.PackerRunUUID,
		"SSHPublicKey": d.SSHPublicKey, "SSHPrivateKey": d.SSHPrivateKey,
		"SourceAMI": d.SourceAMI, "SourceAMIName": d.SourceAMIName, "SourceAMIOwner": d.SourceAMIOwner,
		"SourceAMIOwnerName": d.SourceAMIOwnerName, "SourceAMICreationDate": d.SourceAMICreationDate,
		"BuildRegion": d.BuildRegion,
	}
}

// Check reports whether s would render: it parses s and executes it with
// Sample data. The source image's tags are not known before the build, so
// any {{ .SourceAMITags.<key> }} passes (the build fails when the source
// image has no such tag).
func Check(s string) error {
	_, err := RenderSample(s)
	return err
}

// RenderSample renders s with Sample data, for checks that need to see
// the shape of the final value (for example the characters of an AMI name).
// A tag of the source image renders empty.
func RenderSample(s string) (string, error) {
	return render(s, Sample(), "zero")
}

func parse(s string, data Data, missingKey string) (*template.Template, error) {
	tpl, err := template.New("value").
		Option("missingkey=" + missingKey).
		Funcs(funcs(data)).
		Parse(s)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", s, err)
	}
	return tpl, nil
}

// Command renders a command template such as execute_command or
// bundle_vol_command with data (a struct or map holding its Go-template
// placeholders, {{.Path}}). Unknown placeholders are errors; they name the
// placeholder and attr, not the data, which may hold secrets.
func Command(attr, tpl string, data any) (string, error) {
	t, err := template.New(attr).Option("missingkey=error").Parse(tpl)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", attr, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render %s: %w", attr, err)
	}
	return b.String(), nil
}
