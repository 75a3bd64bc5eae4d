package progress

import (
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{0, 29 * mib, 0, "[....................] 0% 0.0/29.0 MiB"},
		{12*mib + 300*1024, 29 * mib, 4 * time.Second, "[########............] 42% 12.3/29.0 MiB 3.1 MiB/s ETA 6s"},
		{29 * mib, 29 * mib, 10 * time.Second, "[####################] 100% 29.0/29.0 MiB 2.9 MiB/s"},
		{512 * 1024, 600 * mib, 2 * time.Second, "[....................] 0% 0.5/600.0 MiB 256 KiB/s ETA 39m58s"},
		{100 * mib, 10000 * mib, 10 * time.Second, "[....................] 1% 100.0/10000.0 MiB 10.0 MiB/s ETA 16m30s"},
		{1 * mib, 10000 * mib, 10 * time.Second, "[....................] 0% 1.0/10000.0 MiB 102 KiB/s ETA 27h46m"},
		{5 * mib, -1, 2 * time.Second, "5.0 MiB 2.5 MiB/s"},
		{5 * mib, 0, 0, "5.0 MiB"},
		{30 * mib, 29 * mib, time.Second, "[####################] 100% 30.0/29.0 MiB 30.0 MiB/s"},
	}
	for _, tt := range tests {
		if got := Format(tt.done, tt.total, tt.elapsed); got != tt.want {
			t.Errorf("Format(%d, %d, %v) = %q, want %q", tt.done, tt.total, tt.elapsed, got, tt.want)
		}
	}
}
