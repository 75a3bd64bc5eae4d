package initrd

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestSetHugepages(t *testing.T) {
	const kernelDefault = "[always] madvise never\n"
	tests := []struct {
		name      string
		thp       string
		hasSwitch bool
		want      string // the switch's content afterwards
	}{
		{"default", THPMode, true, "never"},
		{"command line chose", "", true, kernelDefault},
		{"kernel without THP", THPMode, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSys{root: t.TempDir()}
			p := f.Path(thpSwitch)
			if tt.hasSwitch {
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(kernelDefault), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s := &State{Sys: f, Config: Config{THP: tt.thp}}
			if err := setHugepages(context.Background(), s); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(p)
			if err != nil && tt.hasSwitch {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("switch = %q, want %q", got, tt.want)
			}
		})
	}
}
