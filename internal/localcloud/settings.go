package localcloud

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Settings are the knobs of the realism layer. A profile is a named set of
// Settings; individual settings can then be overridden with Set (by flags or
// IMGBUILD_LOCALCLOUD_<NAME> environment variables).
type Settings struct {
	Profile     string        // profile the settings started from
	Boot        time.Duration // instance pending -> running (also after StartInstances)
	Stop        time.Duration // instance stopping -> stopped
	Terminate   time.Duration // instance shutting-down -> terminated
	Image       time.Duration // CreateImage/RegisterImage pending -> available
	Copy        time.Duration // CopyImage pending -> available
	Jitter      float64       // each duration varies by up to this fraction (0.2 = +-20%)
	Latency     time.Duration // added to every EC2 request
	Consistency time.Duration // new IDs answer Invalid*.NotFound for this long
	// ConsistencyLists also leaves new IDs out of Describe lists (filtered
	// by ID or tag) during the Consistency window, as EC2 may. Off in every
	// profile: imgbuild's cleanup confirms absence with such lists and does
	// not yet cope with lists that lag (see the README).
	ConsistencyLists bool
	Throttle         bool    // enforce EC2's per-region token buckets
	FaultRate        float64 // fraction of EC2 requests failing with InternalError (500)
	FailImages       string  // images whose name (or "region/name" when the glob has a "/") matches end in state failed
	SSH              bool    // boot a real Linux guest, with its own sshd, per Linux instance (root only)
	// The simulated Windows guest (see windows.go).
	WindowsBoot    time.Duration // running -> WinRM answers and the password is there
	WindowsRestart time.Duration // a restart's WinRM outage
	Sysprep        time.Duration // a Sysprep command with shutdown -> the instance stops itself
	FailCommands   string        // glob of Windows commands and scripts that exit non-zero
	// BundleInstance (bundles.go).
	Bundle      time.Duration // a bundle task's pending, bundling and storing phases together (at least)
	FailBundles string        // bundle tasks whose prefix (or "bucket/prefix" when the glob has a "/") matches end in state failed
	Seed        int64         // random seed for jitter and faults (0 = time-based)
}

// Profile names.
const (
	Instant   = "instant"   // no delays, no faults: moto plus the API fixes
	Realistic = "realistic" // boot ~3s, image ~5s, copy ~8s, with jitter
	Hostile   = "hostile"   // realistic plus throttling, 5xx faults, eventual consistency
)

// ProfileSettings returns the settings of a named profile.
func ProfileSettings(name string) (Settings, error) {
	s := Settings{Profile: name, SSH: true, WindowsBoot: time.Second, WindowsRestart: time.Second, Sysprep: time.Second}
	switch name {
	case Instant:
	case Realistic, Hostile:
		s.Boot, s.Stop, s.Terminate = 3*time.Second, 2*time.Second, 2*time.Second
		s.Image, s.Copy = 5*time.Second, 8*time.Second
		s.WindowsBoot, s.WindowsRestart, s.Sysprep = 5*time.Second, 3*time.Second, 4*time.Second
		s.Bundle = 10 * time.Second
		s.Jitter, s.Latency = 0.2, 20*time.Millisecond
		if name == Hostile {
			s.Throttle, s.FaultRate, s.Consistency = true, 0.05, 2*time.Second
		}
	default:
		return Settings{}, fmt.Errorf("unknown local cloud profile %q (want instant, realistic or hostile)", name)
	}
	return s, nil
}

// setting describes one overridable field for Set and the docs.
type setting struct {
	doc string
	set func(s *Settings, v string) error
}

func durationSetting(doc string, field func(*Settings) *time.Duration) setting {
	return setting{doc: doc + " (duration, e.g. 3s)", set: func(s *Settings, v string) error {
		d, err := time.ParseDuration(v)
		if err == nil && d < 0 {
			err = fmt.Errorf("negative")
		}
		*field(s) = d
		return err
	}}
}

func floatSetting(doc string, field func(*Settings) *float64) setting {
	return setting{doc: doc + " (0..1)", set: func(s *Settings, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err == nil && (f < 0 || f > 1) {
			err = fmt.Errorf("out of range")
		}
		*field(s) = f
		return err
	}}
}

func boolSetting(doc string, field func(*Settings) *bool) setting {
	return setting{doc: doc + " (true/false)", set: func(s *Settings, v string) (err error) {
		*field(s), err = strconv.ParseBool(v)
		return err
	}}
}

var settings = map[string]setting{
	"boot":        durationSetting("instance boot time", func(s *Settings) *time.Duration { return &s.Boot }),
	"stop":        durationSetting("instance stop time", func(s *Settings) *time.Duration { return &s.Stop }),
	"terminate":   durationSetting("instance termination time", func(s *Settings) *time.Duration { return &s.Terminate }),
	"image":       durationSetting("image creation time", func(s *Settings) *time.Duration { return &s.Image }),
	"copy":        durationSetting("image copy time", func(s *Settings) *time.Duration { return &s.Copy }),
	"latency":     durationSetting("latency added to each EC2 request", func(s *Settings) *time.Duration { return &s.Latency }),
	"consistency": durationSetting("eventual-consistency window for new IDs", func(s *Settings) *time.Duration { return &s.Consistency }),
	"consistency-lists": boolSetting("also leave new IDs out of Describe lists during the consistency window",
		func(s *Settings) *bool { return &s.ConsistencyLists }),
	"jitter":          floatSetting("random variation of durations", func(s *Settings) *float64 { return &s.Jitter }),
	"fault-rate":      floatSetting("fraction of EC2 requests failing with InternalError", func(s *Settings) *float64 { return &s.FaultRate }),
	"throttle":        boolSetting("enforce EC2 request token buckets", func(s *Settings) *bool { return &s.Throttle }),
	"ssh":             boolSetting("boot a real Linux guest (own root file system, sshd, sudo) per Linux instance; needs root", func(s *Settings) *bool { return &s.SSH }),
	"windows-boot":    durationSetting("time from a Windows instance running to WinRM answering and its password being there", func(s *Settings) *time.Duration { return &s.WindowsBoot }),
	"windows-restart": durationSetting("time a restarting Windows guest does not answer WinRM", func(s *Settings) *time.Duration { return &s.WindowsRestart }),
	"sysprep":         durationSetting("time from a Sysprep command with shutdown to the Windows instance stopping itself", func(s *Settings) *time.Duration { return &s.Sysprep }),
	"fail-commands":   {doc: "glob of Windows commands, scripts and script contents that exit with code 1", set: func(s *Settings, v string) error { s.FailCommands = v; return nil }},
	"bundle":          durationSetting("time a BundleInstance task spends pending, bundling and storing (at least)", func(s *Settings) *time.Duration { return &s.Bundle }),
	"fail-bundles":    {doc: "glob of bundle prefixes whose BundleInstance task fails (\"bucket/prefix\" when it contains a /)", set: func(s *Settings, v string) error { s.FailBundles = v; return nil }},
	"fail-images":     {doc: "glob of image names that end in state failed (\"region/name\" when it contains a /)", set: func(s *Settings, v string) error { s.FailImages = v; return nil }},
	"seed": {doc: "random seed (integer)", set: func(s *Settings, v string) (err error) {
		s.Seed, err = strconv.ParseInt(v, 10, 64)
		return err
	}},
}

// SettingNames returns the names accepted by Set, sorted.
func SettingNames() []string {
	names := make([]string, 0, len(settings))
	for n := range settings {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// SettingDoc returns a one-line description of a setting.
func SettingDoc(name string) string { return settings[name].doc }

// EnvName returns the environment variable for a setting, e.g.
// IMGBUILD_LOCALCLOUD_FAULT_RATE for "fault-rate".
func EnvName(name string) string {
	return "IMGBUILD_LOCALCLOUD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Set overrides one setting by name from its text form.
func (s *Settings) Set(name, value string) error {
	st, ok := settings[name]
	if !ok {
		return fmt.Errorf("unknown local cloud setting %q", name)
	}
	if err := st.set(s, value); err != nil {
		return fmt.Errorf("local cloud setting %s=%q: %w", name, value, err)
	}
	return nil
}

// ApplyEnv overrides settings from IMGBUILD_LOCALCLOUD_<NAME> variables.
func (s *Settings) ApplyEnv(getenv func(string) string) error {
	for _, n := range SettingNames() {
		if v := getenv(EnvName(n)); v != "" {
			if err := s.Set(n, v); err != nil {
				return fmt.Errorf("%s: %w", EnvName(n), err)
			}
		}
	}
	return nil
}
