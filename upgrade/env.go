package upgrade

import (
	"context"
	"errors"
	"fmt"

	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/grubenv"
)

// bootEnv is grubenv seen as the A/B state machine of pkg/grub.
type bootEnv struct{ *grubenv.Env }

func (e bootEnv) state() grub.State { return grub.ReadState(e.Env) }

func (e bootEnv) slot(name string) grub.SlotInfo { return grub.ReadSlot(e.Env, name) }

// markWriting says slot is being overwritten with version (GRUB will not
// fall back to it) and drops a pending trial of it. It refuses the good
// slot: during an unconfirmed trial boot that is the other slot.
func (e bootEnv) markWriting(slot, version string) error {
	return grub.BeginWrite(e.Env, slot, version)
}

// arm points the next boot at slot for one trial, in one write with the
// slot's command line and version.
func (e bootEnv) arm(slot, version, cmdline string) error {
	if err := grub.TryNext(e.Env, slot, cmdline, 1); err != nil {
		return err
	}
	return grub.SetSlot(e.Env, slot, grub.SlotTrying, version)
}

// updateEnv loads grubenv, lets fn change it and saves it. With tornAt
// set (a test pause) it writes the backup copy and half the primary, then
// blocks until ctx ends, as if the power went at that byte.
func (m *Machine) updateEnv(ctx context.Context, fn func(bootEnv) error, tornAt string, progress func(Progress)) error {
	env, err := m.Env.Load()
	if err != nil {
		return fmt.Errorf("read grubenv: %w", err)
	}
	if err := fn(bootEnv{env}); err != nil {
		return fmt.Errorf("update grubenv: %w", err)
	}
	if tornAt != "" {
		t, ok := m.Env.(interface {
			SaveTorn(*grubenv.Env, int) error
		})
		if !ok {
			return errors.New("update grubenv: this store cannot stop half-way")
		}
		if err := t.SaveTorn(env, grubenv.Size/2); err != nil {
			return fmt.Errorf("update grubenv: %w", err)
		}
		progress(Progress{Phase: "paused", Message: tornAt})
		m.log().Warn("upgrade paused", "at", tornAt)
		<-ctx.Done()
		return fmt.Errorf("upgrade paused at %s: %w", tornAt, ctx.Err())
	}
	if err := m.Env.Save(env); err != nil {
		return fmt.Errorf("write grubenv: %w", err)
	}
	return nil
}
