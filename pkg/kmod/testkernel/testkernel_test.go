package testkernel

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFetch(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads a kernel package: skipped under -short")
	}
	k, err := Fetch(context.Background())
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("Fetch() = %v", err)
	}
	if err != nil {
		t.Fatalf("Fetch() = %v", err)
	}
	for _, p := range []string{k.Vmlinuz, filepath.Join(k.ModulesDir, "modules.dep"), filepath.Join(k.ModulesDir, "modules.softdep")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("Fetch() = %+v: %v", k, err)
		}
	}
}
