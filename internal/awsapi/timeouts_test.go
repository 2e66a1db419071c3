package awsapi

import (
	"strings"
	"testing"
	"time"
)

func TestEffectiveTimeouts(t *testing.T) {
	def := DefaultTimeouts()
	tests := []struct {
		name    string
		polling *Polling
		block   Timeouts
		check   func(Timeouts) bool
	}{
		{"defaults", nil, Timeouts{}, func(got Timeouts) bool {
			return got == def && got.ImageAvailable == time.Hour && got.CopyAvailable == 90*time.Minute &&
				got.InstanceRunning == 10*time.Minute && got.MaxPollDelay == 0 && got.PollDelay == 0
		}},
		{"aws_polling attempts x delay", &Polling{MaxAttempts: 120, DelaySeconds: 30}, Timeouts{}, func(got Timeouts) bool {
			return got.ImageAvailable == time.Hour && got.CopyAvailable == time.Hour &&
				got.InstanceStopped == time.Hour && got.MaxPollDelay == 30*time.Second &&
				got.NotFoundGrace == def.NotFoundGrace
		}},
		{"aws_polling attempts alone multiply 15s (plugin #642)", &Polling{MaxAttempts: 240}, Timeouts{}, func(got Timeouts) bool {
			return got.ImageAvailable == time.Hour && got.MaxPollDelay == def.MaxPollDelay
		}},
		{"aws_polling delay alone only caps polling", &Polling{DelaySeconds: 5}, Timeouts{}, func(got Timeouts) bool {
			return got.ImageAvailable == def.ImageAvailable && got.MaxPollDelay == 5*time.Second
		}},
		{"timeouts block beats aws_polling", &Polling{MaxAttempts: 10, DelaySeconds: 6},
			Timeouts{CopyAvailable: 3 * time.Hour, MaxPollDelay: time.Second}, func(got Timeouts) bool {
				return got.CopyAvailable == 3*time.Hour && got.ImageAvailable == time.Minute &&
					got.MaxPollDelay == time.Second
			}},
		{"timeouts block beats defaults", nil, Timeouts{InstanceStopped: time.Hour, NotFoundGrace: 5 * time.Minute},
			func(got Timeouts) bool {
				return got.InstanceStopped == time.Hour && got.NotFoundGrace == 5*time.Minute &&
					got.InstanceRunning == def.InstanceRunning
			}},
	}
	for _, tt := range tests {
		if got := EffectiveTimeouts(tt.polling, tt.block); !tt.check(got) {
			t.Errorf("%s: got %+v", tt.name, got)
		}
	}
}

func TestTimeoutsTable(t *testing.T) {
	var zero Timeouts
	def := DefaultTimeouts()
	names := map[string]bool{}
	for _, op := range Operations() {
		if zero.Timeout(op) <= 0 || zero.Timeout(op) != def.Timeout(op) {
			t.Errorf("%s: zero Timeouts give %s, defaults %s", op, zero.Timeout(op), def.Timeout(op))
		}
		names[op.String()] = true
	}
	if len(names) != len(Operations()) || !names["copy_available"] || !names["instance_stopped"] {
		t.Errorf("operation names %v", names)
	}
	set := Timeouts{CopyAvailable: 3 * time.Hour}
	if set.Timeout(OpCopyAvailable) != 3*time.Hour || set.Timeout(OpImageAvailable) != time.Hour {
		t.Errorf("Timeout of a set field and of a zero one: %s, %s", set.Timeout(OpCopyAvailable), set.Timeout(OpImageAvailable))
	}
	if zero.Timeout(Operation(99)) != 0 || Operation(99).String() != "unknown operation" {
		t.Error("an unknown operation has a timeout or a name")
	}
}

func TestTimeoutsDelays(t *testing.T) {
	tests := []struct {
		name        string
		t           Timeouts
		first, last time.Duration
	}{
		{"adaptive by default", Timeouts{}, DefaultFirstDelay, DefaultMaxDelay},
		{"adaptive with a cap", Timeouts{MaxPollDelay: 10 * time.Second}, DefaultFirstDelay, 10 * time.Second},
		{"a cap below the first delay", Timeouts{MaxPollDelay: 100 * time.Millisecond}, 100 * time.Millisecond, 100 * time.Millisecond},
		{"fixed delay_seconds", Timeouts{PollDelay: 30 * time.Second}, 30 * time.Second, 30 * time.Second},
		{"fixed, capped by a set cap", Timeouts{PollDelay: 30 * time.Second, MaxPollDelay: time.Second}, time.Second, time.Second},
	}
	for _, tt := range tests {
		if first, last := tt.t.Delays(); first != tt.first || last != tt.last {
			t.Errorf("%s: Delays() = %s, %s; want %s, %s", tt.name, first, last, tt.first, tt.last)
		}
	}
}

func TestResolveTimeoutsPrecedence(t *testing.T) {
	def := DefaultTimeouts()
	tests := []struct {
		name      string
		polling   *Polling
		block     Timeouts
		env       Polling
		image     time.Duration // ImageAvailable
		copy      time.Duration // CopyAvailable
		pollDelay time.Duration
	}{
		{"defaults", nil, Timeouts{}, Polling{}, def.ImageAvailable, def.CopyAvailable, 0},
		{"env: attempts x delay", nil, Timeouts{}, Polling{MaxAttempts: 120, DelaySeconds: 30}, time.Hour, time.Hour, 30 * time.Second},
		{"env: attempts alone x 15s", nil, Timeouts{}, Polling{MaxAttempts: 8}, 2 * time.Minute, 2 * time.Minute, 0},
		{"env: timeout seconds alone", nil, Timeouts{}, Polling{TimeoutSeconds: 600}, 10 * time.Minute, 10 * time.Minute, 0},
		{"env: timeout seconds ignored with attempts", nil, Timeouts{}, Polling{MaxAttempts: 4, DelaySeconds: 5, TimeoutSeconds: 600},
			20 * time.Second, 20 * time.Second, 5 * time.Second},
		{"aws_polling beats env field by field", &Polling{MaxAttempts: 10}, Timeouts{}, Polling{MaxAttempts: 999, DelaySeconds: 6},
			time.Minute, time.Minute, 6 * time.Second},
		{"aws_polling delay beats env delay", &Polling{DelaySeconds: 2}, Timeouts{}, Polling{MaxAttempts: 30, DelaySeconds: 60},
			time.Minute, time.Minute, 2 * time.Second},
		{"timeouts block beats aws_polling and env", &Polling{MaxAttempts: 10, DelaySeconds: 6},
			Timeouts{CopyAvailable: 3 * time.Hour}, Polling{MaxAttempts: 1}, time.Minute, 3 * time.Hour, 6 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ResolveTimeouts(tt.polling, tt.block, tt.env)
			if got.ImageAvailable != tt.image || got.CopyAvailable != tt.copy || got.PollDelay != tt.pollDelay {
				t.Errorf("image %s, copy %s, poll delay %s; want %s, %s, %s",
					got.ImageAvailable, got.CopyAvailable, got.PollDelay, tt.image, tt.copy, tt.pollDelay)
			}
			if got.NotFoundGrace != def.NotFoundGrace {
				t.Errorf("NotFoundGrace %s changed by polling settings", got.NotFoundGrace)
			}
			if tt.image == def.ImageAvailable {
				return
			}
			for _, op := range Operations() {
				// A bound from aws_polling or the environment applies to
				// every operation the timeouts block leaves unset.
				if op != OpCopyAvailable && got.Timeout(op) != tt.image {
					t.Errorf("%s: %s, want the polling bound %s", op, got.Timeout(op), tt.image)
				}
			}
		})
	}
}

func TestPollingFromEnvTimeouts(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Polling
		wantErr string
	}{
		{"unset", nil, Polling{}, ""},
		{"all set", map[string]string{EnvMaxAttempts: "240", EnvPollDelay: " 15 ", EnvTimeoutSeconds: "3600"},
			Polling{MaxAttempts: 240, DelaySeconds: 15, TimeoutSeconds: 3600}, ""},
		{"empty is unset", map[string]string{EnvPollDelay: ""}, Polling{}, ""},
		{"not a number", map[string]string{EnvMaxAttempts: "lots"}, Polling{}, `AWS_MAX_ATTEMPTS="lots"`},
		{"zero", map[string]string{EnvPollDelay: "0"}, Polling{}, "AWS_POLL_DELAY_SECONDS"},
		{"negative", map[string]string{EnvTimeoutSeconds: "-5"}, Polling{}, "AWS_TIMEOUT_SECONDS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PollingFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("PollingFromEnv = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestEffectiveTimeoutsEnv checks that the process environment takes part,
// under the template's aws_polling, and that a bad value is left out.
func TestEffectiveTimeoutsEnv(t *testing.T) {
	t.Setenv(EnvMaxAttempts, "40")
	t.Setenv(EnvPollDelay, "3")
	got := EffectiveTimeouts(nil, Timeouts{})
	if got.InstanceRunning != 2*time.Minute || got.PollDelay != 3*time.Second {
		t.Errorf("from the environment: running %s, poll delay %s; want 2m, 3s", got.InstanceRunning, got.PollDelay)
	}
	got = EffectiveTimeouts(&Polling{DelaySeconds: 6}, Timeouts{})
	if got.InstanceRunning != 4*time.Minute || got.PollDelay != 6*time.Second {
		t.Errorf("aws_polling over the environment: running %s, poll delay %s; want 4m, 6s", got.InstanceRunning, got.PollDelay)
	}
	t.Setenv(EnvPollDelay, "soon")
	if got := EffectiveTimeouts(nil, Timeouts{}); got != DefaultTimeouts() {
		t.Errorf("an invalid environment changed the timeouts: %+v", got)
	}
}
