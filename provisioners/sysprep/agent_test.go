package sysprep

import (
	"strings"
	"testing"
)

func TestAgentFor(t *testing.T) {
	tests := []struct {
		image, version string
		want           Agent // "" means an error
	}{
		// Current AWS images, EC2Launch v2.
		{"Windows_Server-2022-English-Full-Base-2024.01.10", "", EC2LaunchV2},
		{"Windows_Server-2022-English-Core-Base-2024.10.09", "", EC2LaunchV2},
		{"Windows_Server-2022-Japanese-Full-Base-2023.08.10", "", EC2LaunchV2},
		{"Windows_Server-2022-English-Full-SQL_2022_Standard-2024.01.10", "", EC2LaunchV2},
		{"Windows_Server-2022-English-Full-ContainersLatest-2024.01.10", "", EC2LaunchV2},
		{"Windows_Server-2022-English-Core-EKS_Optimized-1.29-2024.02.13", "", EC2LaunchV2},
		{"TPM-Windows_Server-2022-English-Full-Base-2023.08.10", "", EC2LaunchV2},
		{"Windows_Server-2025-English-Full-Base-2024.11.13", "", EC2LaunchV2},
		{"Windows_Server-2025-English-Core-Base-2025.01.15", "", EC2LaunchV2},
		// EC2LaunchV2-* images of 2016 and 2019 have v2, whatever the version.
		{"EC2LaunchV2-Windows_Server-2019-English-Full-Base-2023.08.10", "", EC2LaunchV2},
		{"EC2LaunchV2-Windows_Server-2016-English-Full-Base-2023.08.10", "", EC2LaunchV2},
		{"EC2LaunchV2-Windows_Server-2016-English-Full-Base-2023.08.10", "2016", EC2LaunchV2},
		{"EC2LaunchV2-Windows_Server-2019-English-Core-Base-2024.01.10", "", EC2LaunchV2},
		// 2019 and 2016: EC2Launch v1.
		{"Windows_Server-2019-English-Full-Base-2023.08.10", "", EC2LaunchV1},
		{"Windows_Server-2019-English-Core-Base-2023.08.10", "", EC2LaunchV1},
		{"Windows_Server-2019-English-Full-SQL_2019_Standard-2023.08.10", "", EC2LaunchV1},
		{"Windows_Server-2019-English-Full-ECS_Optimized-2023.08.10", "", EC2LaunchV1},
		{"Windows_Server-2019-English-STIG-Full-2023.08.08", "", EC2LaunchV1},
		{"TPM-Windows_Server-2019-English-Full-Base-2023.08.10", "", EC2LaunchV1},
		{"Windows_Server-2016-English-Full-Base-2023.08.10", "", EC2LaunchV1},
		{"Windows_Server-2016-English-Full-SQL_2017_Web-2023.08.10", "", EC2LaunchV1},
		{"Windows_Server-2016-German-Full-Base-2023.08.10", "", EC2LaunchV1},
		{"Windows_Server-2016-English-Deep-Learning-2019.10.09", "", EC2LaunchV1},
		// 2012 R2 and earlier: EC2Config.
		{"Windows_Server-2012-R2_RTM-English-64Bit-Base-2023.08.10", "", EC2Config},
		{"Windows_Server-2012-R2_RTM-English-64Bit-SQL_2014_SP3_Standard-2023.08.10", "", EC2Config},
		{"Windows_Server-2012-RTM-English-64Bit-Base-2023.08.10", "", EC2Config},
		{"Windows_Server-2008-R2_SP1-English-64Bit-Base-2020.01.15", "", EC2Config},
		{"Windows_Server-2008-SP2-English-64Bit-Base-2019.12.11", "", EC2Config},
		// Other spellings of the same name.
		{"windows_server-2022-english-full-base", "", EC2LaunchV2},
		{"Windows Server 2012 R2 with my app", "", EC2Config},
		{"WindowsServer2019-golden", "", EC2LaunchV1},
		// windows_version overrides the version of the name.
		{"my-golden-image-2024-01-10", "2022", EC2LaunchV2},
		{"my-golden-image", "2019", EC2LaunchV1},
		{"my-golden-image", "2012 R2", EC2Config},
		{"my-golden-image", "2012r2", EC2Config},
		{"Windows_Server-2022-English-Full-Base-2024.01.10", "2016", EC2LaunchV1},
		{"Windows_Server-2016-English-Full-Base-2023.08.10", "2025", EC2LaunchV2},
		// Nothing tells the version.
		{"my-golden-image-2022", "", ""},
		{"", "", ""},
		{"Windows_Server-20H2-English-Core-ContainersLatest-2021.10.13", "", ""},
		{"Windows_Server-2004-English-Core-ContainersLatest-2020.11.11", "", ""},
		{"Windows_Server-20191-English", "", ""},
		{"amzn2-ami-hvm-2.0.20240109.0-x86_64-gp2", "", ""},
		{"my-golden-image", "2020", ""},
		{"my-golden-image", "Windows 2019", ""},
	}
	for _, tt := range tests {
		t.Run(tt.image+"/"+tt.version, func(t *testing.T) {
			got, err := AgentFor(tt.image, tt.version)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("AgentFor = %q, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("AgentFor = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestAgentForError(t *testing.T) {
	_, err := AgentFor("my-golden-image", "")
	for _, want := range []string{`"my-golden-image"`, "agent", "windows_version", `"ec2launch-v2"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %s", err, want)
		}
	}
}

func TestNormalizeVersion(t *testing.T) {
	for in, want := range map[string]string{
		"2012 R2": "2012 R2", "2012R2": "2012 R2", "2012-r2": "2012 R2", "2012_R2": "2012 R2",
		"2019": "2019", " 2022 ": "2022", "2008 r2": "2008 R2", "2025": "2025",
	} {
		if got, ok := NormalizeVersion(in); !ok || got != want {
			t.Errorf("NormalizeVersion(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "2020", "R2", "2016 R2", "Server 2019", "2019R2R2"} {
		if got, ok := NormalizeVersion(in); ok {
			t.Errorf("NormalizeVersion(%q) = %q, ok", in, got)
		}
	}
}

func TestAgentNames(t *testing.T) {
	for _, a := range Agents {
		if a.DisplayName() == string(a) || a.SysprepCommand() == "" {
			t.Errorf("agent %q: display name %q, command %q", a, a.DisplayName(), a.SysprepCommand())
		}
	}
}
