package awsapi

import (
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
				got.InstanceRunning == 10*time.Minute && got.MaxPollDelay == 2*time.Second
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
