package bench

import (
	"reflect"
	"testing"
	"time"
)

func TestLineClock(t *testing.T) {
	c := &lineClock{start: time.Now()}
	for _, p := range []string{"first li", "ne\r\nsecond\n", "third"} {
		if _, err := c.Write([]byte(p)); err != nil {
			t.Fatalf("lineClock.Write(%q) = %v", p, err)
		}
	}
	var got []string
	for _, l := range c.Lines() {
		got = append(got, l.text)
	}
	if want := []string{"first line", "second"}; !reflect.DeepEqual(got, want) {
		t.Errorf("lineClock lines = %q, want %q", got, want)
	}
}

func TestParseBootLog(t *testing.T) {
	s := time.Second
	lines := []stampedLine{
		{1 * s, "BdsDxe: loading Boot0001"},
		{6 * s, "ros-initrd: stage 1 starting (kernel uptime 2.50s)"},
		{7 * s, "ros-initrd: phase modules done in 900ms"},
		{8 * s, "[    4.1] random: crng init ros-initrd: phase mount-root done in 35ms"},
		{9 * s, "ros-initrd: root ready at kernel uptime 5.25s"},
		{10 * s, "ros init: phase mounts done in 12ms"},
		{20 * s, "ros init: phase containerd FAILED after 5ms: no"},
		{25 * s, "ros init: phase services done in 14000ms"},
		{26 * s, "ros init: boot done in 17000ms"},
		{30 * s, "ros: services ready"},
		{31 * s, "ros: services ready"},
	}
	l := parseBootLog(lines)
	want := bootLog{
		stage1Uptime: 2500 * time.Millisecond,
		rootUptime:   5250 * time.Millisecond,
		stage1At:     6 * s,
		rootAt:       9 * s,
		bootDoneAt:   26 * s,
		readyAt:      30 * s,
		phases: []phase{
			{"initrd", "modules", 900 * time.Millisecond},
			{"initrd", "mount-root", 35 * time.Millisecond},
			{"init", "mounts", 12 * time.Millisecond},
			{"init", "services", 14 * s},
		},
	}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("parseBootLog() = %+v, want %+v", l, want)
	}
	sp, ok := l.split()
	wantSplit := split{firmware: 3500 * time.Millisecond, kernel: 2500 * time.Millisecond, stage1: 3 * s, stage2: 21 * s,
		init: 17 * s, services: 4 * s}
	if !ok || sp != wantSplit {
		t.Errorf("split() = %+v, %v, want %+v, true", sp, ok, wantSplit)
	}
	if _, ok := parseBootLog(lines[:3]).split(); ok {
		t.Errorf("split() of a log without root ready = ok, want not ok")
	}
}

func TestReadMemory(t *testing.T) {
	const full = "MemTotal:        1000000 kB\nMemFree:          500000 kB\nMemAvailable:     800000 kB\n" +
		"Active(file):      100000 kB\nInactive(file):    150000 kB\nSReclaimable:       20000 kB\n"
	tests := []struct {
		meminfo string
		want    memory
		ok      bool
	}{
		{full, memory{total: 1000000 << 10, used: 200000 << 10, held: 230000 << 10}, true},
		{"MemTotal:        1000000 kB\nMemFree:          500000 kB\nMemAvailable:     800000 kB\n", memory{}, false},
		{"MemTotal: 1000 kB\n", memory{}, false},
		{"", memory{}, false},
	}
	for _, tt := range tests {
		got, err := readMemory(tt.meminfo)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("readMemory(%q) = %+v, %v, want %+v, ok %v", tt.meminfo, got, err, tt.want, tt.ok)
		}
	}
}
