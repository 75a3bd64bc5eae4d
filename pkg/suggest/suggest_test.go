package suggest

import "testing"

func TestClosest(t *testing.T) {
	known := []string{"environment", "engine", "network", "cmdline"}
	tests := []struct{ in, want string }{
		{"enigne", "engine"},
		{"enviroment", "environment"},
		{"netwrk", "network"},
		{"cmdline", "cmdline"},
		{"services", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.in, known); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
