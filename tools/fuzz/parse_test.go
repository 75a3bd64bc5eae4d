package main

import (
	"reflect"
	"testing"
)

func TestParseList(t *testing.T) {
	out := `?   	github.com/ros-os/ros/os/init	[no test files]
FuzzParse
ok  	github.com/ros-os/ros/pkg/cmdline	0.003s
TestNothing
ok  	github.com/ros-os/ros/pkg/disk	0.004s
FuzzParse
FuzzRoundTrip
ok  	github.com/ros-os/ros/pkg/grubenv	(cached)
`
	got, err := parseList(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []target{
		{"github.com/ros-os/ros/pkg/cmdline", "FuzzParse"},
		{"github.com/ros-os/ros/pkg/grubenv", "FuzzParse"},
		{"github.com/ros-os/ros/pkg/grubenv", "FuzzRoundTrip"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseList() = %v, want %v", got, want)
	}
	if _, err := parseList("FAIL\tgithub.com/ros-os/ros/pkg/x [build failed]\n"); err == nil {
		t.Errorf("parseList(build failure) = nil error")
	}
}

func TestParseFuzzOutput(t *testing.T) {
	tests := []struct {
		name, out string
		want      result
	}{
		{"pass", `=== RUN   FuzzParse
fuzz: elapsed: 0s, gathering baseline coverage: 0/54 completed
fuzz: elapsed: 0s, gathering baseline coverage: 54/54 completed, now fuzzing with 1 workers
fuzz: elapsed: 3s, execs: 86931 (28975/sec), new interesting: 4 (total: 58)
fuzz: elapsed: 6s, execs: 197375 (36812/sec), new interesting: 8 (total: 62)
--- PASS: FuzzParse (6.01s)
PASS
`, result{execs: 197375, newEntries: 8}},
		{"crash", `fuzz: elapsed: 3s, execs: 500 (166/sec), new interesting: 1 (total: 9)
--- FAIL: FuzzParse (3.10s)
    --- FAIL: FuzzParse (0.00s)
        fuzz_test.go:78: boom

    Failing input written to testdata/fuzz/FuzzParse/1a1ec11587a6856f
    To re-run:
    go test -run=FuzzParse/1a1ec11587a6856f
FAIL
`, result{execs: 500, newEntries: 1, crasher: "testdata/fuzz/FuzzParse/1a1ec11587a6856f"}},
		{"build failure", "# pkg\n./x.go:1: syntax error\nFAIL\n", result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseFuzzOutput(tt.out); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseFuzzOutput() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDeadlineRace(t *testing.T) {
	tests := []struct {
		name, out string
		want      bool
	}{
		{"go.dev/issue/75804", "fuzz: elapsed: 60s, execs: 725397 (0/sec), new interesting: 34 (total: 107)\n--- FAIL: FuzzParseOpenStackMeta (60.11s)\n    context deadline exceeded\n=== NAME  \nFAIL\n", true},
		{"crasher", "--- FAIL: FuzzX (1.00s)\n    context deadline exceeded\n    Failing input written to testdata/fuzz/FuzzX/ab\n", false},
		{"target error", "--- FAIL: FuzzX (0.00s)\n    x_test.go:3: Get() = context deadline exceeded\n", false},
	}
	for _, tt := range tests {
		if got := deadlineRace(tt.out); got != tt.want {
			t.Errorf("deadlineRace(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
