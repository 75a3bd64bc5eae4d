package bootenv

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/grubenv"
)

func TestDirStoreSaveLoad(t *testing.T) {
	dir := t.TempDir()
	s := &DirStore{Dir: dir}
	_, new, _, _ := states(t)
	if err := s.Save(new); err != nil {
		t.Fatalf("Save() = %v", err)
	}
	p, _ := os.ReadFile(filepath.Join(dir, Primary))
	b, _ := os.ReadFile(filepath.Join(dir, Backup))
	if len(p) != grubenv.Size || !bytes.Equal(p, b) {
		t.Fatalf("after Save: primary %d bytes, backup %d bytes, equal %v; want two equal %d-byte blocks", len(p), len(b), bytes.Equal(p, b), grubenv.Size)
	}
	got, err := s.Load()
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if !reflect.DeepEqual(got.Vars(), new.Vars()) {
		t.Errorf("Load() = %q, want %q", got.Vars(), new.Vars())
	}
	if r := s.Report(); r.Copy != Primary || !r.Verified {
		t.Errorf("Report() = %v, want the verified primary", r)
	}

	// GRUB's own writer decrements ros_tries in place (grub-editenv uses
	// the same lib/envblk.c as save_env): the seal still checks.
	if _, err := exec.LookPath("grub-editenv"); err == nil {
		for _, name := range []string{Primary, Backup} {
			if out, err := exec.Command("grub-editenv", filepath.Join(dir, name), "set", "ros_tries=0").CombinedOutput(); err != nil {
				t.Fatalf("grub-editenv set: %v %s", err, out)
			}
		}
		got, err := s.Load()
		if err != nil || s.Report().Copy != Primary || !s.Report().Verified {
			t.Fatalf("Load() after GRUB's save_env = %v, %v; want the verified primary", err, s.Report())
		}
		if v, _ := got.Get(grub.VarTries); v != "0" {
			t.Errorf("ros_tries after GRUB's save = %q, want 0", v)
		}
		out, err := exec.Command("grub-editenv", filepath.Join(dir, Primary), "list").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), grub.VarSum+"=") || !strings.HasSuffix(string(out), grub.VarSumEnd+"="+grub.Sum(got)+"\n") {
			t.Errorf("grub-editenv list = %v\n%s\nwant %s first and %s=%s last", err, out, grub.VarSum, grub.VarSumEnd, grub.Sum(got))
		}
	}
}

// TestDirStoreSaveOrder checks that the backup is written (whole and
// synced) before the primary, and what a cut between them leaves.
func TestDirStoreSaveOrder(t *testing.T) {
	dir := t.TempDir()
	old, new, _, _ := states(t)
	if err := (&DirStore{Dir: dir}).Save(old); err != nil {
		t.Fatal(err)
	}
	var order []string
	cut := errors.New("power cut")
	s := &DirStore{Dir: dir, write: func(path string, block []byte) error {
		order = append(order, filepath.Base(path))
		if filepath.Base(path) == Primary {
			return cut // the power goes before the primary is written
		}
		return writeBlock(path, block)
	}}
	if err := s.Save(new); !errors.Is(err, cut) {
		t.Fatalf("Save() = %v, want the injected cut", err)
	}
	if want := []string{Backup, Primary}; !reflect.DeepEqual(order, want) {
		t.Errorf("Save() wrote %v, want %v", order, want)
	}
	// Cut between the writes: the old primary is intact and is used.
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Vars(), old.Vars()) || s.Report().Copy != Primary {
		t.Errorf("Load() after a cut between the writes = %q (%v), want the old state from the primary", got.Vars(), s.Report())
	}

	// Cut in the middle of the primary: first sector new, second old.
	s = &DirStore{Dir: dir}
	if err := s.SaveTorn(new, 512); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, Primary))
	newBlock, _ := new.Marshal()
	if !bytes.Equal(raw[:512], newBlock[:512]) || bytes.Equal(raw, newBlock) {
		t.Fatalf("SaveTorn(512) did not leave a torn primary")
	}
	got, err = s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Vars(), new.Vars()) || s.Report().Copy != Backup || !s.Report().Verified {
		t.Errorf("Load() after a torn primary = %q (%v), want the new state from the backup", got.Vars(), s.Report())
	}
	if !errors.Is(s.Report().PrimaryErr, grub.ErrSeal) && !errors.Is(s.Report().PrimaryErr, grubenv.ErrInvalid) {
		t.Errorf("Report().PrimaryErr = %v, want a seal or parse error", s.Report().PrimaryErr)
	}
	// The next Save repairs both.
	if err := s.Save(got); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); err != nil || s.Report().Copy != Primary || !s.Report().Verified {
		t.Errorf("Load() after a repairing Save = %v, %v; want the verified primary", err, s.Report())
	}
}

func TestDirStoreMissingAndLegacy(t *testing.T) {
	dir := t.TempDir()
	s := &DirStore{Dir: dir}
	if _, err := s.Load(); !errors.Is(err, ErrNoEnv) {
		t.Errorf("Load() of an empty dir = %v, want ErrNoEnv", err)
	}
	// A disk written before the backup existed: one unsealed primary,
	// longer than a block (GRUB pads files it creates to 1024; a longer
	// one is cut back by Save).
	legacy, _ := grubenv.New(grubenv.Var{Name: grub.VarGood, Value: "B"})
	if err := grubenv.WriteFile(filepath.Join(dir, Primary), legacy); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil {
		t.Fatalf("Load() of a legacy primary = %v", err)
	}
	if v, _ := got.Get(grub.VarGood); v != "B" || s.Report().Copy != Primary || s.Report().Verified {
		t.Errorf("Load() of a legacy primary = %q (%v), want ros_good=B, primary, unverified", got.Vars(), s.Report())
	}
	if err := s.Save(got); err != nil {
		t.Fatalf("Save() = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, Backup)); err != nil {
		t.Errorf("Save() did not create the backup: %v", err)
	}
	if _, err := s.Load(); err != nil || !s.Report().Verified {
		t.Errorf("Load() after Save = %v, %v; want verified", err, s.Report())
	}
	if err := s.SaveTorn(got, grubenv.Size+1); err == nil {
		t.Errorf("SaveTorn(past the block) = nil error")
	}
}
