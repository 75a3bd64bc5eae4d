package disk

import (
	"errors"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/grubenv"
)

// TestEnvBudget: two command lines of 375 bytes each (the README's
// budget) fit in the block in the longest state an upgrade reaches:
// versions of 24 bytes, slot B writing, then on trial.
func TestEnvBudget(t *testing.T) {
	cmd := strings.Repeat("c", 375)
	ver := strings.Repeat("v", 24)
	env, err := NewEnv(SlotEnv{Written: true, Cmdline: cmd, Version: ver}, SlotEnv{Written: true, Cmdline: cmd, Version: ver})
	if err != nil {
		t.Fatal(err)
	}
	if err := grub.BeginWrite(env, "B", ver); err != nil {
		t.Fatal(err)
	}
	if err := grub.TryNext(env, "B", cmd, grub.MaxTries); err != nil {
		t.Fatal(err)
	}
	if err := grub.SetSlotState(env, "A", grub.SlotWriting); err != nil { // the longest state name
		t.Fatal(err)
	}
	if err := grub.Seal(env); err != nil {
		t.Fatal(err)
	}
	b, err := env.Marshal()
	if err != nil {
		t.Fatalf("Marshal() of the budget = %v", err)
	}
	free := strings.Count(string(b), "#") - 1 // the header's '#'
	t.Logf("budget state uses %d of %d bytes", grubenv.Size-free, grubenv.Size)
	if err := env.Set(grub.CmdlineVar("A"), cmd+strings.Repeat("c", free+1)); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Marshal(); !errors.Is(err, grubenv.ErrFull) {
		t.Errorf("Marshal() past the budget = %v, want ErrFull", err)
	}
}

func TestWriteEnvBlockSize(t *testing.T) {
	if err := WriteEnvBlock("/nonexistent.img", GrubEnvFile, make([]byte, 100)); err == nil || !strings.Contains(err.Error(), "1024") {
		t.Errorf("WriteEnvBlock(100 bytes) = %v, want a size error", err)
	}
}
