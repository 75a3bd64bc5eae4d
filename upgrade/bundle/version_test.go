package bundle

import (
	"testing"
	"time"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"v1", "v2", -1},
		{"v2", "v1", 1},
		{"v2", "v2", 0},
		{"v1.2", "v1.10", -1},
		{"v1.2.3-rc1", "v1.2.3", -1},
		{"v1", "v1.0.0", 0},
		{"v10", "v9", 1},
		{"v1", "2024.05.01", 1}, // semver beats non-semver
		{"2024.5.10", "2024.5.9", 1},
		{"2024.05.01", "2024.5.1", -1}, // equal by value: byte order keeps distinct strings distinct
		{"build-7", "build-12", -1},
		{"abc", "abd", -1},
		{"abc", "abc", 0},
		{"", "v1", -1},
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := CompareVersions(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestCompareBuilds(t *testing.T) {
	t1 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	tests := []struct {
		a    string
		at   time.Time
		b    string
		bt   time.Time
		want int
	}{
		{"v2", t1, "v1", t2, 1},             // semver wins over time
		{"zzz", t1, "aaa", t2, -1},          // non-semver: build time
		{"dev", t2, "v1", t1, 1},            // one non-semver: build time
		{"abc", time.Time{}, "abd", t2, -1}, // a time missing: versions
		{"x", t1, "x", t2, 0},               // same string is the same build
	}
	for _, tt := range tests {
		if got := CompareBuilds(tt.a, tt.at, tt.b, tt.bt); got != tt.want {
			t.Errorf("CompareBuilds(%q, %v, %q, %v) = %d, want %d", tt.a, tt.at, tt.b, tt.bt, got, tt.want)
		}
	}
}
