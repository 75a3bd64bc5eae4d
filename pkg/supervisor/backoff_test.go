package supervisor

import (
	"testing"
	"time"
)

func TestBackoffNext(t *testing.T) {
	b := DefaultBackoff()
	s := time.Second
	tests := []struct {
		prev, uptime, want time.Duration
	}{
		{0, 0, s},
		{s, 0, 2 * s},
		{2 * s, 10 * s, 4 * s},
		{16 * s, 0, 30 * s},
		{30 * s, 59 * s, 30 * s},
		{30 * s, 60 * s, s},
		{8 * s, 2 * time.Hour, s},
	}
	for _, tt := range tests {
		if got := b.Next(tt.prev, tt.uptime); got != tt.want {
			t.Errorf("Next(%s, %s) = %s, want %s", tt.prev, tt.uptime, got, tt.want)
		}
	}
}

func TestBackoffZeroValueIsSane(t *testing.T) {
	var b Backoff
	if got := b.Next(0, 0); got != time.Second {
		t.Errorf("Backoff{}.Next(0, 0) = %s, want 1s", got)
	}
	if got := b.Next(time.Second, 0); got != time.Second {
		t.Errorf("Backoff{}.Next(1s, 0) = %s, want 1s (Max defaults to Initial)", got)
	}
}
