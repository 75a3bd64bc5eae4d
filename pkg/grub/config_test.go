package grub

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s: %v (run go test -update)", path, err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./pkg/grub -update to accept):\n--- got\n%s", name, got)
	}
}

func TestDiskConfigGolden(t *testing.T) {
	tests := []struct {
		name string
		opt  DiskOptions
	}{
		{"disk.cfg", DiskOptions{}},
		{"disk-custom.cfg", DiskOptions{Slots: []Slot{{"A", 5}, {"B", 6}}, Timeout: 5, Serial: "--unit=1 --speed=9600"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DiskConfig(tt.opt)
			if err != nil {
				t.Fatalf("DiskConfig(%+v) = %v", tt.opt, err)
			}
			golden(t, tt.name, got)
			checkScript(t, got)
		})
	}
}

func TestDiskConfigBad(t *testing.T) {
	for _, slots := range [][]Slot{
		{{"A", 3}},
		{{"A", 3}, {"A", 4}},
		{{"A", 3}, {"C", 4}},
		{{"A", 0}, {"B", 4}},
	} {
		if _, err := DiskConfig(DiskOptions{Slots: slots}); err == nil {
			t.Errorf("DiskConfig(slots %v) = nil error, want an error", slots)
		}
	}
}

// TestDiskConfigTries checks the literal decrement cases: every value from
// MaxTries down to 1 is saved before booting.
func TestDiskConfigTries(t *testing.T) {
	cfg, _ := DiskConfig(DiskOptions{})
	for n := MaxTries; n >= 1; n-- {
		want := `[ "$ros_tries" = "` + string(rune('0'+n)) + `" ]; then
    set ros_tries=` + string(rune('0'+n-1)) + `
    set ros_first="$ros_try"
    save_env -f "${prefix}/${ros_env}" ros_tries
    if [ "$ros_other_ok" = "y" ]; then save_env -f "${prefix}/${ros_env_other}" ros_tries; fi`
		if !strings.Contains(cfg, want) {
			t.Errorf("DiskConfig() lacks the case for ros_tries=%d:\n%s", n, want)
		}
	}
	if i, j := strings.Index(cfg, "save_env"), strings.Index(cfg, "linux "); i < 0 || j < i {
		t.Errorf("save_env (at %d) must come before linux (at %d)", i, j)
	}
}

// TestDiskConfigEnvCopies checks the order of the grubenv choice: the
// primary when its seal agrees, else the backup, else the primary as is;
// every state variable is unset before the backup is loaded.
func TestDiskConfigEnvCopies(t *testing.T) {
	cfg, _ := DiskConfig(DiskOptions{})
	steps := []string{
		`if load_env -f "${prefix}/grubenv"; then`,
		`if [ "$ros_sum" = "$ros_sum_end" ]; then set ros_env=grubenv; fi`,
		`if [ -z "$ros_env" ]; then`,
		`if load_env -f "${prefix}/grubenv.bak"; then`,
		`elif load_env -f "${prefix}/grubenv"; then`,
		`if load_env -f "${prefix}/${ros_env_other}" ros_sum ros_sum_end; then`,
		`if [ "$ros_tries" = "3" ]; then`,
	}
	at := 0
	for _, s := range steps {
		i := strings.Index(cfg[at:], s)
		if i < 0 {
			t.Fatalf("DiskConfig() lacks %q after offset %d", s, at)
		}
		at += i + len(s)
	}
	unsets := cfg[strings.Index(cfg, `if [ -z "$ros_env" ]`):strings.Index(cfg, `grubenv.bak"; then`)]
	for _, v := range []string{VarGood, VarTry, VarTries, CmdlineVar("A"), CmdlineVar("B"), StateVar("A"), StateVar("B"), VersionVar("A"), VersionVar("B"), VarSum, VarSumEnd} {
		if !strings.Contains(unsets, "unset "+v+"\n") {
			t.Errorf("DiskConfig() does not unset %s before loading the backup", v)
		}
	}
}

// TestDiskConfigFallback checks that the fallback slot is refused in the
// states writing, bad and empty, and that the defaults match DefaultState.
func TestDiskConfigFallback(t *testing.T) {
	cfg, _ := DiskConfig(DiskOptions{})
	for _, want := range []string{
		`if [ -z "$ros_state_A" ]; then set ros_state_A=good; fi`,
		`if [ -z "$ros_state_B" ]; then set ros_state_B=empty; fi`,
		`if [ "$ros_second_state" = "writing" -o "$ros_second_state" = "bad" -o "$ros_second_state" = "empty" ]; then
  set ros_fallback=n`,
		`  ros_boot "$ros_first"
  if [ "$ros_fallback" = "y" ]; then
    ros_boot "$ros_second"`,
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("DiskConfig() lacks:\n%s", want)
		}
	}
	for _, st := range []string{SlotWriting, SlotBad, SlotEmpty} {
		if Bootable(st) {
			t.Errorf("Bootable(%s) = true, want false", st)
		}
	}
	for _, st := range []string{SlotGood, SlotTrying} {
		if !Bootable(st) {
			t.Errorf("Bootable(%s) = false, want true", st)
		}
	}
}

func TestISOConfigGolden(t *testing.T) {
	tests := []struct {
		name string
		opt  ISOOptions
	}{
		{"iso.cfg", ISOOptions{Cmdline: "console=tty0 console=ttyS0 panic=5"}},
		{"iso-quoted.cfg", ISOOptions{Cmdline: `console=ttyS0 it's $root "x y"`, Timeout: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ISOConfig(tt.opt)
			if err != nil {
				t.Fatalf("ISOConfig(%+v) = %v", tt.opt, err)
			}
			golden(t, tt.name, got)
			checkScript(t, got)
			for _, entry := range []string{`"ros (live)"`, `"ros (live, debug shell)"`, `"Install ros to the first disk"`} {
				if !strings.Contains(got, "menuentry "+entry) {
					t.Errorf("ISOConfig() lacks menuentry %s", entry)
				}
			}
		})
	}
	if _, err := ISOConfig(ISOOptions{Cmdline: "a\nb"}); err == nil {
		t.Errorf("ISOConfig(cmdline with newline) = nil error, want an error")
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$x", "'$x'"},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// checkScript runs grub-script-check (grub-common) on a generated config.
func checkScript(t *testing.T, cfg string) {
	t.Helper()
	if _, err := exec.LookPath("grub-script-check"); err != nil {
		return
	}
	path := filepath.Join(t.TempDir(), "grub.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("grub-script-check", path).CombinedOutput(); err != nil {
		t.Errorf("grub-script-check: %v\n%s", err, out)
	}
}
