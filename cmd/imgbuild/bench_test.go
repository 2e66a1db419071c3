package main

import (
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// benchTemplate has one amazon-ebs source per build; communicator none so
// the figures measure orchestration (as Packer's measurements in
// reference/packer.md section 9 do). %d: builds; regions are filled in.
func benchTemplate(builds int, regions []string) string {
	var b strings.Builder
	quoted := make([]string, len(regions))
	for i, r := range regions {
		quoted[i] = fmt.Sprintf("%q", r)
	}
	fmt.Fprintf(&b, `source "amazon-ebs" "bench" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  communicator  = "none"
  ami_name      = "bench-${source.name}-{{timestamp}}"
  ami_regions   = [%s]
  ami_users     = ["123456789012"]
  source_ami_filter {
    filters     = { name = "amzn2-ami-hvm-*-x86_64-gp2" }
    owners      = ["amazon"]
    most_recent = true
  }
  tags = { Name = "bench", Base = "{{ .SourceAMIName }}", Team = "platform", Region = "{{ .BuildRegion }}" }
}
build {
  name = "bench"
`, strings.Join(quoted, ", "))
	for i := 0; i < builds; i++ {
		fmt.Fprintf(&b, "  source \"amazon-ebs.bench\" {\n    name = \"b%03d\"\n  }\n", i)
	}
	b.WriteString("}\n")
	return b.String()
}

// benchRow is one line of the printed table.
type benchRow struct {
	profile           string
	builds, regions   int
	wall, critical    time.Duration
	calls             int
	throttled, faults int
	topActions        string
	maxRSSMiB         float64
}

var benchRegions = []string{"eu-west-1", "eu-central-1", "ap-southeast-2", "us-west-2", "ap-northeast-1", "sa-east-1", "ca-central-1", "eu-north-1"}

// BenchmarkBuild runs whole builds on the local cloud and prints, per
// profile and size: wall time, the cloud's critical path for that profile
// (the delays no client can avoid), the overhead (wall minus critical
// path), API calls (per build, and the busiest actions), throttling and
// 5xx seen (and retried), and the process's peak RSS.
func BenchmarkBuild(b *testing.B) {
	cases := []struct {
		profile         string
		builds, regions int
	}{
		{"instant", 1, 0}, {"instant", 1, 3}, {"instant", 1, 8},
		{"realistic", 1, 0}, {"realistic", 1, 3}, {"realistic", 1, 8},
		{"realistic", 20, 3}, {"hostile", 20, 3},
	}
	if os.Getenv("IMGBUILD_BENCH_LARGE") != "" {
		cases = append(cases, struct {
			profile         string
			builds, regions int
		}{"realistic", 100, 3}, struct {
			profile         string
			builds, regions int
		}{"hostile", 100, 3})
	}
	var rows []benchRow
	for _, c := range cases {
		name := fmt.Sprintf("%s/builds=%d/regions=%d", c.profile, c.builds, c.regions)
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				rows = append(rows, benchOnce(b, c.profile, c.builds, c.regions))
			}
		})
	}
	printBenchTable(rows)
}

func benchOnce(b *testing.B, profile string, builds, regions int) benchRow {
	b.Helper()
	s, err := localcloud.ProfileSettings(profile)
	if err != nil {
		b.Fatal(err)
	}
	s.SSH = false
	cloud, err := localcloud.Start(b.Context(), localcloud.Options{Settings: s, Addr: "127.0.0.1:0"})
	if err != nil {
		b.Skipf("local cloud: %v", err)
	}
	defer cloud.Close()
	dir := b.TempDir()
	for _, kv := range append(cloud.Env(), "IMGBUILD_STATE_DIR="+dir+"/state") {
		k, v, _ := strings.Cut(kv, "=")
		b.Setenv(k, v)
	}
	if err := os.WriteFile(dir+"/main.pkr.hcl", []byte(benchTemplate(builds, benchRegions[:regions])), 0o644); err != nil {
		b.Fatal(err)
	}
	warmUp(b, cloud.URL(), append([]string{"us-east-1"}, benchRegions[:regions]...))
	var out, errOut strings.Builder
	start := time.Now()
	code := realMain([]string{"build", "-parallel", "64", dir}, &out, &errOut, os.Getenv)
	wall := time.Since(start)
	if code != 0 {
		b.Fatalf("build exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	st := cloud.Stats()
	return benchRow{
		profile: profile, builds: builds, regions: regions, wall: wall, critical: criticalPath(s, regions),
		calls: total(st.Actions), throttled: st.Throttled, faults: st.Faults,
		topActions: top(st.Actions, 4), maxRSSMiB: maxRSS(),
	}
}

// warmUp makes moto load its catalogue of public images in every region
// (about a second per region, once) so the figures measure builds.
func warmUp(b *testing.B, url string, regions []string) {
	for _, r := range regions {
		c := ec2.NewFromConfig(testenv.AWSConfig(url, r))
		if _, err := c.DescribeImages(b.Context(), &ec2.DescribeImagesInput{Owners: []string{"amazon"}}); err != nil {
			b.Fatalf("warm up %s: %v", r, err)
		}
	}
	if err := resetStats(url); err != nil {
		b.Fatal(err)
	}
}

func resetStats(url string) error {
	resp, err := http.Post(url+"/_localcloud/reset-stats", "", nil)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// criticalPath is the sum of the cloud's delays along the longest chain
// of one build: boot, stop, image, the slowest copy, and termination
// (cleanup waits for it).
func criticalPath(s localcloud.Settings, regions int) time.Duration {
	d := s.Boot + s.Stop + s.Image + s.Terminate
	if regions > 0 {
		d += s.Copy
	}
	return d
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func top(m map[string]int, k int) string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for a, n := range m {
		all = append(all, kv{a, n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v || (all[i].v == all[j].v && all[i].k < all[j].k) })
	var parts []string
	for i := 0; i < len(all) && i < k; i++ {
		parts = append(parts, fmt.Sprintf("%s %d", all[i].k, all[i].v))
	}
	return strings.Join(parts, ", ")
}

func maxRSS() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

func printBenchTable(rows []benchRow) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "profile\tbuilds\tregions\twall\tcritical path\toverhead\tAPI calls\tcalls/build\tthrottled\t5xx\tpeak RSS MiB\tbusiest actions\t")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%.0f\t%s\t\n", r.profile, r.builds, r.regions,
			r.wall.Round(10*time.Millisecond), r.critical, (r.wall - r.critical).Round(10*time.Millisecond),
			r.calls, r.calls/r.builds, r.throttled, r.faults, r.maxRSSMiB, r.topActions)
	}
	w.Flush()
}
