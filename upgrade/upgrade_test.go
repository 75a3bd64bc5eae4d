package upgrade_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/pkg/disk/boottest"
	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/state"
	"github.com/ros-os/ros/upgrade"
	"github.com/ros-os/ros/upgrade/bootenv"
	"github.com/ros-os/ros/upgrade/bundle"
	"github.com/ros-os/ros/upgrade/slot"
)

const slotSize = 16 * disk.MiB

// history is an in-memory upgrade history.
type history struct {
	mu  sync.Mutex
	ups []state.Upgrade
}

func (h *history) AddUpgrade(_ context.Context, u state.Upgrade) (int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ups = append([]state.Upgrade{u}, h.ups...)
	return int64(len(h.ups)), nil
}

func (h *history) Upgrades(_ context.Context, limit int) ([]state.Upgrade, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if limit > 0 && limit < len(h.ups) {
		return append([]state.Upgrade(nil), h.ups[:limit]...), nil
	}
	return append([]state.Upgrade(nil), h.ups...), nil
}

// payload is a small squashfs standing for an OS version.
func payload(t *testing.T, version string, size int) string {
	t.Helper()
	big := make([]byte, size)
	rand.New(rand.NewSource(int64(len(version) + size))).Read(big)
	return boottest.Squash(t, "gzip", map[string][]byte{
		"boot/kernel": big, "boot/initrd": []byte("initrd"), "boot/cmdline": []byte("console=ttyS0\n"),
		"usr/lib/ros/version": []byte(version),
	})
}

// fixture is a v1 disk image, a signing key and bundles.
type fixture struct {
	raw  string
	key  *bundle.PrivateKey
	pub  bundle.PublicKey
	dir  string
	hist *history
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	boottest.NeedTools(t, "grub-mkimage", "mkfs.ext4", "mksquashfs", "mkfs.fat", "mcopy")
	f := &fixture{dir: t.TempDir(), hist: &history{}}
	f.raw = filepath.Join(f.dir, "disk.raw")
	_, err := disk.Write(context.Background(), disk.Options{
		Payload: payload(t, "v1", 1<<20), Version: "v1", Out: f.raw,
		SlotSize: slotSize, StateSize: 8 * disk.MiB, EFISize: 34 * disk.MiB,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.key, f.pub, err = bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// bundle writes a bundle of version (payload size bytes) with m's fields
// changed by edit, signed with key (nil: unsigned).
func (f *fixture) bundle(t *testing.T, version string, size int, key *bundle.PrivateKey, edit func(*bundle.Manifest)) string {
	t.Helper()
	m := bundle.Manifest{Version: version, Arch: "amd64", Cmdline: "console=ttyS0 " + version}
	if edit != nil {
		edit(&m)
	}
	out := filepath.Join(f.dir, version+"-"+hex.EncodeToString([]byte{byte(rand.Intn(256)), byte(rand.Intn(256))})+".bundle")
	if _, err := bundle.CreateFile(context.Background(), out, payload(t, version, size), m, key); err != nil {
		t.Fatal(err)
	}
	return out
}

// machine is the fixture's disk as booted from slot booted, running version.
func (f *fixture) machine(t *testing.T, booted, version string) *upgrade.Machine {
	t.Helper()
	d, err := slot.OpenImage(f.raw)
	if err != nil {
		t.Fatal(err)
	}
	return &upgrade.Machine{
		Disk: d, Env: &bootenv.ImageStore{Path: f.raw}, Booted: booted, Version: version,
		Arch: "amd64", Compatible: "ros-amd64", Keys: []bundle.PublicKey{f.pub},
		History: f.hist, DownloadDir: filepath.Join(f.dir, "download"),
	}
}

// hashes returns the sha256 of both slots and of the grubenv pair.
func (f *fixture) hashes(t *testing.T) map[string]string {
	t.Helper()
	l, err := disk.ReadLayout(f.raw)
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(f.raw)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	out := map[string]string{}
	for _, label := range []string{disk.LabelA, disk.LabelB, disk.LabelEFI} {
		p, err := l.Find(label)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(file, p.Start, p.Size)); err != nil {
			t.Fatal(err)
		}
		out[label] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

// bootTrial does what GRUB does before a trial boot: spend the try.
func (f *fixture) bootTrial(t *testing.T) {
	t.Helper()
	st := &bootenv.ImageStore{Path: f.raw}
	env, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Set(grub.VarTries, "0"); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(env); err != nil {
		t.Fatal(err)
	}
}

func slotsOf(t *testing.T, m *upgrade.Machine) string {
	t.Helper()
	st, err := m.Status()
	if err != nil {
		t.Fatal(err)
	}
	s := ""
	for _, sl := range st.Slots {
		s += sl.Name + ":" + sl.State + ":" + sl.Version
		if sl.Booted {
			s += "*"
		}
		if sl.Next {
			s += ">"
		}
		s += " "
	}
	return s
}

func TestRefusalsLeaveSlotsAlone(t *testing.T) {
	f := newFixture(t)
	other, _, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	good := f.bundle(t, "v2", 1<<20, f.key, nil)
	truncated := filepath.Join(f.dir, "truncated.bundle")
	whole, _ := os.ReadFile(good)
	if err := os.WriteFile(truncated, whole[:len(whole)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	flipped := filepath.Join(f.dir, "flipped.bundle")
	b, err := bundle.Open(good)
	if err != nil {
		t.Fatal(err)
	}
	_, off, _ := b.Payload().Outer()
	b.Close()
	mod := append([]byte(nil), whole...)
	mod[off+100] ^= 0x80
	if err := os.WriteFile(flipped, mod, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		bundle string
		booted string
		want   error
	}{
		{"truncated", truncated, "A", bundle.ErrTruncated},
		{"flipped byte", flipped, "A", bundle.ErrHash},
		{"unsigned", f.bundle(t, "v2", 1<<20, nil, nil), "A", bundle.ErrUnsigned},
		{"unknown key", f.bundle(t, "v2", 1<<20, other, nil), "A", bundle.ErrUnknownKey},
		{"wrong arch", f.bundle(t, "v2", 1<<20, f.key, func(m *bundle.Manifest) { m.Arch = "arm64" }), "A", bundle.ErrArch},
		{"downgrade", f.bundle(t, "v0", 1<<20, f.key, nil), "A", bundle.ErrDowngrade},
		{"too big", f.bundle(t, "v2", int(slotSize)+(1<<20), f.key, nil), "A", upgrade.ErrTooBig},
		{"live", good, "", upgrade.ErrLive},
	}
	before := f.hashes(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := f.machine(t, tt.booted, "v1")
			if tt.booted == "" {
				m.Disk, m.Env = nil, nil
			}
			m.Sync = func() { t.Error("a refused upgrade flushed the filesystems: it got past verification") }
			_, err := m.Upgrade(context.Background(), upgrade.Request{Bundle: tt.bundle}, nil)
			if !errors.Is(err, tt.want) {
				t.Errorf("Upgrade(%s) = %v, want %v", tt.name, err, tt.want)
			}
			if after := f.hashes(t); after[disk.LabelA] != before[disk.LabelA] || after[disk.LabelB] != before[disk.LabelB] || after[disk.LabelEFI] != before[disk.LabelEFI] {
				t.Errorf("Upgrade(%s) changed the disk: before %v, after %v", tt.name, before, after)
			}
		})
	}
}

// TestLifecycle: v1 -> v2 (trial, good), rollback to v1 and back, v3 that
// fails its trial (bad, not retried without force).
func TestLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v2 := f.bundle(t, "v2", 2<<20, f.key, nil)
	m := f.machine(t, "A", "v1")
	if got, want := slotsOf(t, m), "A:good:v1*> B:empty: "; got != want {
		t.Fatalf("fresh disk: %q, want %q", got, want)
	}
	// The filesystems are flushed once, before the idle slot or grubenv
	// changes.
	untouched, syncs := f.hashes(t), 0
	m.Sync = func() {
		syncs++
		if now := f.hashes(t); now[disk.LabelB] != untouched[disk.LabelB] || now[disk.LabelEFI] != untouched[disk.LabelEFI] {
			t.Error("Sync ran after the upgrade changed the disk")
		}
	}
	var phases []string
	res, err := m.Upgrade(ctx, upgrade.Request{Bundle: v2}, func(p upgrade.Progress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
	})
	if err != nil {
		t.Fatalf("Upgrade(v2) = %v", err)
	}
	if syncs != 1 {
		t.Errorf("Upgrade(v2) flushed the filesystems %d times, want once", syncs)
	}
	m.Sync = nil
	if res.Slot != "B" || res.To != "v2" || res.From != "v1" {
		t.Errorf("Upgrade(v2) = %+v, want v1 -> v2 in B", res)
	}
	if want := "verify write readback bootenv done"; join(phases) != want {
		t.Errorf("phases %q, want %q", join(phases), want)
	}
	if got, want := slotsOf(t, m), "A:good:v1* B:trying:v2> "; got != want {
		t.Errorf("after the upgrade: %q, want %q", got, want)
	}
	// Again before rebooting: B (not good yet) is simply written again.
	if _, err := m.Upgrade(ctx, upgrade.Request{Bundle: v2}, nil); err != nil {
		t.Errorf("second Upgrade(v2) before the trial = %v", err)
	}

	// GRUB boots B on trial; rosd finds it healthy.
	f.bootTrial(t)
	mb := f.machine(t, "B", "v2")
	b, err := mb.Check(ctx)
	if err != nil || !b.Trial || b.Version != "v2" {
		t.Fatalf("Check() on the trial boot = %+v, %v, want a trial of v2", b, err)
	}
	if err := mb.MarkGood(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := slotsOf(t, mb), "A:good:v1 B:good:v2*> "; got != want {
		t.Errorf("after MarkGood: %q, want %q", got, want)
	}

	// Rollback to A and back.
	if s, err := mb.Rollback(ctx); err != nil || s != "A" {
		t.Fatalf("Rollback() = %s, %v, want A", s, err)
	}
	f.bootTrial(t)
	ma := f.machine(t, "A", "v1")
	if b, err := ma.Check(ctx); err != nil || !b.Trial {
		t.Fatalf("Check() after rollback = %+v, %v, want a trial", b, err)
	}
	if err := ma.MarkGood(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := slotsOf(t, ma), "A:good:v1*> B:good:v2 "; got != want {
		t.Errorf("after rolling back: %q, want %q", got, want)
	}
	if s, err := ma.Rollback(ctx); err != nil || s != "B" {
		t.Fatalf("Rollback() = %s, %v, want B", s, err)
	}
	f.bootTrial(t)
	mb = f.machine(t, "B", "v2")
	if b, err := mb.Check(ctx); err != nil || !b.Trial {
		t.Fatalf("Check() after rolling forward = %+v, %v", b, err)
	}
	if err := mb.MarkGood(ctx); err != nil {
		t.Fatal(err)
	}

	// v3 into A fails its trial: GRUB spends the try and falls back to B.
	v3 := f.bundle(t, "v3", 1<<20, f.key, nil)
	if _, err := mb.Upgrade(ctx, upgrade.Request{Bundle: v3}, nil); err != nil {
		t.Fatalf("Upgrade(v3) = %v", err)
	}
	f.bootTrial(t)
	mb = f.machine(t, "B", "v2")
	b, err = mb.Check(ctx)
	if err != nil || b.Trial || b.FellBack == nil || b.FellBack.Version != "v3" || b.FellBack.Slot != "A" {
		t.Fatalf("Check() after the fallback = %+v, %v, want the failure of v3 in A", b, err)
	}
	if got, want := slotsOf(t, mb), "A:bad:v3 B:good:v2*> "; got != want {
		t.Errorf("after the failed trial: %q, want %q", got, want)
	}
	if _, err := mb.Rollback(ctx); !errors.Is(err, upgrade.ErrNoGood) {
		t.Errorf("Rollback() to a bad slot = %v, want ErrNoGood", err)
	}
	if _, err := mb.Upgrade(ctx, upgrade.Request{Bundle: v3}, nil); !errors.Is(err, bundle.ErrKnownBad) {
		t.Errorf("Upgrade(v3) again = %v, want ErrKnownBad", err)
	}
	if _, err := mb.Upgrade(ctx, upgrade.Request{Bundle: v3, Force: true}, nil); err != nil {
		t.Errorf("Upgrade(v3, force) = %v", err)
	}
	ups, _ := f.hist.Upgrades(ctx, 0)
	var statuses []string
	for _, u := range ups {
		statuses = append(statuses, u.Version+":"+u.Status)
	}
	if got, want := join(statuses), "v3:installed v3:failed v3:installed v2:good v2:rolled-back v1:good v1:rolled-back v2:good v2:installed v2:installed"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
}

// TestRollbackCutShort: a rollback's trial boot that never confirms
// (the power went) leaves its slot good, to be tried again; one found
// unhealthy marks it bad, as a failed upgrade does.
func TestRollbackCutShort(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := f.machine(t, "A", "v1")
	if _, err := m.Upgrade(ctx, upgrade.Request{Bundle: f.bundle(t, "v2", 1<<20, f.key, nil)}, nil); err != nil {
		t.Fatalf("Upgrade(v2) = %v", err)
	}
	f.bootTrial(t)
	mb := f.machine(t, "B", "v2")
	if _, err := mb.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if err := mb.MarkGood(ctx); err != nil {
		t.Fatal(err)
	}

	// Rollback to A; GRUB spends the try on A, the power goes, and the
	// next boot is B's.
	if _, err := mb.Rollback(ctx); err != nil {
		t.Fatalf("Rollback() = %v", err)
	}
	f.bootTrial(t)
	mb = f.machine(t, "B", "v2")
	b, err := mb.Check(ctx)
	if err != nil || b.FellBack == nil || !b.FellBack.Rollback || b.FellBack.Slot != "A" {
		t.Fatalf("Check() after a rollback cut short = %+v %+v, %v; want a rollback of A cut short", b, b.FellBack, err)
	}
	if got, want := slotsOf(t, mb), "A:good:v1 B:good:v2*> "; got != want {
		t.Errorf("after a rollback cut short: %q, want %q", got, want)
	}

	// Again, and this time A's trial boot finds its services unhealthy.
	if _, err := mb.Rollback(ctx); err != nil {
		t.Fatalf("Rollback() again = %v", err)
	}
	f.bootTrial(t)
	ma := f.machine(t, "A", "v1")
	ma.FailTrial(ctx, "v1", "sshd not ready")
	mb = f.machine(t, "B", "v2")
	b, err = mb.Check(ctx)
	if err != nil || b.FellBack == nil || b.FellBack.Rollback || b.FellBack.Reason != "sshd not ready" {
		t.Fatalf("Check() after an unhealthy rollback = %+v %+v, %v; want a failure saying sshd not ready", b, b.FellBack, err)
	}
	if got, want := slotsOf(t, mb), "A:bad:v1 B:good:v2*> "; got != want {
		t.Errorf("after an unhealthy rollback: %q, want %q", got, want)
	}
}

// TestUpgradeDuringTrialKeepsGood: during an unconfirmed trial of B the
// idle slot is A, the good one: writing it is refused.
func TestUpgradeDuringTrialKeepsGood(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := f.machine(t, "A", "v1")
	if _, err := m.Upgrade(ctx, upgrade.Request{Bundle: f.bundle(t, "v2", 1<<20, f.key, nil)}, nil); err != nil {
		t.Fatal(err)
	}
	f.bootTrial(t)
	before := f.hashes(t)
	mb := f.machine(t, "B", "v2")
	_, err := mb.Upgrade(ctx, upgrade.Request{Bundle: f.bundle(t, "v3", 1<<20, f.key, nil)}, nil)
	if !errors.Is(err, grub.ErrGoodSlot) {
		t.Errorf("Upgrade during a trial = %v, want ErrGoodSlot", err)
	}
	if after := f.hashes(t); after[disk.LabelA] != before[disk.LabelA] {
		t.Errorf("the good slot A changed")
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

// TestUpgradeFromOCIArchive: a bundle carried as an OCI image archive (what
// `ros build --format bundle-oci` writes, and what a registry serves) is
// fetched, unpacked and written like a bundle file.
func TestUpgradeFromOCIArchive(t *testing.T) {
	f := newFixture(t)
	b, err := bundle.Open(f.bundle(t, "v2", 1<<20, f.key, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	img, err := bundle.ToImage(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(f.dir, "v2.oci.tar")
	out, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	if err := bundle.WriteArchive(out, img, "v2"); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	m := f.machine(t, "A", "v1")
	res, err := m.Upgrade(context.Background(), upgrade.Request{Image: "oci-archive:" + archive}, nil)
	if err != nil {
		t.Fatalf("Upgrade(oci-archive) = %v", err)
	}
	if res.To != "v2" || res.Slot != "B" {
		t.Errorf("Upgrade(oci-archive) = %+v, want v2 in B", res)
	}
	if entries, _ := os.ReadDir(m.DownloadDir); len(entries) != 0 {
		t.Errorf("download folder keeps %d files after a finished upgrade, want none", len(entries))
	}
}

// TestSecondUpgradeRefused: while one upgrade runs (held at a pause), a
// second one is refused at once and changes nothing.
func TestSecondUpgradeRefused(t *testing.T) {
	f := newFixture(t)
	m := f.machine(t, "A", "v1")
	v2 := f.bundle(t, "v2", 1<<20, f.key, nil)
	ctx, cancel := context.WithCancel(context.Background())
	paused := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := m.Upgrade(ctx, upgrade.Request{Bundle: v2, PauseAt: "write:middle"}, func(p upgrade.Progress) {
			if p.Phase == "paused" {
				close(paused)
			}
		})
		done <- err
	}()
	<-paused
	if _, err := m.Upgrade(context.Background(), upgrade.Request{Bundle: v2}, nil); !errors.Is(err, upgrade.ErrBusy) {
		t.Errorf("second Upgrade() = %v, want ErrBusy", err)
	}
	if _, err := m.Rollback(context.Background()); !errors.Is(err, upgrade.ErrBusy) {
		t.Errorf("Rollback() during an upgrade = %v, want ErrBusy", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("paused Upgrade() after cancel = %v, want context.Canceled", err)
	}
	if got, want := slotsOf(t, m), "A:good:v1*> B:writing:v2 "; got != want {
		t.Errorf("after an interrupted write: %q, want %q", got, want)
	}
}
