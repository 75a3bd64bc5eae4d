package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/qemu/qemutest"
	"github.com/ros-os/ros/pkg/sshcheck"
	"github.com/ros-os/ros/upgrade"
)

// osStatus runs `ros os status -o json`.
func (m *machine) osStatus() api.OSStatus {
	m.t.Helper()
	var st api.OSStatus
	out := m.ros("os status -o json")
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		m.t.Fatalf("ros os status -o json: %v:\n%s", err, out)
	}
	return st
}

// slots is the status as "A:good:v1 B:empty:" with the booted slot
// marked by a star, for comparisons.
func slots(st api.OSStatus) string {
	var parts []string
	for _, s := range st.Slots {
		p := s.Name + ":" + s.State + ":" + s.Version
		if s.Booted {
			p += "*"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

// expectSlots fails the test unless the slots are as want.
func (m *machine) expectSlots(want string) {
	m.t.Helper()
	if got := slots(m.osStatus()); got != want {
		m.t.Fatalf("ros os status: slots %q, want %q", got, want)
	}
}

// waitConsole waits for text on the console (from the cursor on).
func (m *machine) waitConsole(text string, timeout time.Duration) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), timeout)
	defer cancel()
	if _, err := m.vm.WaitFor(ctx, text); err != nil {
		m.t.Fatalf("waiting for %q on the console: %v\n%s", text, err, m.vm.ConsoleTail(40))
	}
}

// expectFellBack checks rosd said, on the console after offset since, that the upgrade to
// version failed and the machine is back on its good slot.
func (m *machine) expectFellBack(version string, since int) {
	m.t.Helper()
	if c := m.console()[since:]; !strings.Contains(c, "ros: upgrade to "+version+" failed; back on slot") {
		m.t.Errorf("console does not say the upgrade to %s failed:\n%s", version, tail(c, 40))
	}
}

// upgradeAndBoot runs `ros os upgrade ARGS`, which reboots the machine,
// and waits for the next services ready.
func (m *machine) upgradeAndBoot(args string) string {
	m.t.Helper()
	out := m.ros("os upgrade " + args)
	m.waitReady()
	return out
}

// channelIndex writes a channel index listing the bundles and serves it.
func channelIndex(t *testing.T, srv *bundleServer, bundles map[string]string) string {
	t.Helper()
	type entry struct {
		Version string `json:"version"`
		URL     string `json:"url"`
		Size    int64  `json:"size"`
		SHA256  string `json:"sha256"`
		Arch    string `json:"arch"`
	}
	idx := struct {
		Name     string  `json:"name"`
		Versions []entry `json:"versions"`
	}{Name: "e2e"}
	for version, file := range bundles {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		name := "ros-" + version + ".bundle"
		srv.add(name, file)
		idx.Versions = append(idx.Versions, entry{Version: version, URL: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Arch: "amd64"})
	}
	b, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "channel.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.add("channel.json", path)
}

// TestUpgrade drives one machine through the life of upgrades: refusals
// that leave both slots untouched, v1 -> v2 from a local bundle, rollback
// to v1 and back, and two broken v3s (init fails; kernel panics) that the
// machine rolls back from by itself.
func TestUpgrade(t *testing.T) {
	set := upgradeImages(t)
	raw := copyDisk(t, set.v1.Base+".raw")
	srv := newBundleServer(t)
	m := boot(t, set.v1, qemu.Config{Image: raw, GuestForwards: []qemu.GuestForward{srv.forward()}})
	m.expectSlots("A:good:v1* B:empty:")
	m.ssh("echo kept-across-upgrades > /home/ros/marker")

	t.Run("refusals", func(t *testing.T) {
		m := m.with(t)
		before := slotHashes(t, raw)
		for name, bad := range badBundles(t, set.v2, set.signKey) {
			url := srv.add(name+".bundle", bad.file)
			out, code := m.sshCode("ros os upgrade --no-reboot --bundle " + url)
			if code == 0 {
				t.Errorf("upgrade with the %s bundle succeeded, want a refusal:\n%s", name, out)
				continue
			}
			if !strings.Contains(strings.ToLower(out), bad.want) {
				t.Errorf("upgrade with the %s bundle: %q, want a refusal saying %q", name, strings.TrimSpace(out), bad.want)
			}
		}
		if after := slotHashes(t, raw); after["A"] != before["A"] || after["B"] != before["B"] {
			t.Errorf("slots changed by refused upgrades: before %v, after %v", before, after)
		}
		m.expectSlots("A:good:v1* B:empty:")
	})

	t.Run("local bundle v1 to v2", func(t *testing.T) {
		m := m.with(t)
		m.put("/home/ros/v2.bundle", readFile(t, set.v2))
		out := m.upgradeAndBoot("--bundle /home/ros/v2.bundle")
		if !strings.Contains(out, "v1 -> v2 in slot B") {
			t.Errorf("ros os upgrade said %q, want v1 -> v2 in slot B", out)
		}
		m.waitConsole("ros: slot B (v2) is good", 2*time.Minute)
		m.expectSlots("A:good:v1 B:good:v2*")
		if got := strings.TrimSpace(m.ssh("cat /home/ros/marker")); got != "kept-across-upgrades" {
			t.Errorf("marker after the upgrade = %q", got)
		}
		if got := strings.TrimSpace(m.ros("os version")); got != "v2" {
			t.Errorf("ros os version = %q, want v2", got)
		}
	})

	t.Run("rollback and back", func(t *testing.T) {
		m := m.with(t)
		m.ros("os rollback")
		m.waitReady()
		m.waitConsole("ros: slot A (v1) is good", 2*time.Minute)
		m.expectSlots("A:good:v1* B:good:v2")
		m.ros("os rollback")
		m.waitReady()
		m.waitConsole("ros: slot B (v2) is good", 2*time.Minute)
		m.expectSlots("A:good:v1 B:good:v2*")
	})

	t.Run("v3 whose init fails, from the channel", func(t *testing.T) {
		m := m.with(t)
		ch := channelIndex(t, srv, map[string]string{"v2": set.v2, "v3": set.v3Init})
		if out := m.ros("os list --channel " + ch); !strings.Contains(out, "v3") {
			t.Errorf("ros os list: %q, want v3 listed", out)
		}
		since := len(m.console())
		m.upgradeAndBoot("--channel " + ch)
		if c := m.console()[since:]; !strings.Contains(c, "ros-initrd: FAILED") {
			t.Errorf("console shows no failed trial boot:\n%s", tail(c, 40))
		}
		m.expectFellBack("v3", since)
		m.expectSlots("A:bad:v3 B:good:v2*")
		if ev := m.ros("events"); !strings.Contains(ev, "upgrade to v3 failed") {
			t.Errorf("ros events: no failed upgrade to v3:\n%s", ev)
		}
	})

	t.Run("v3 whose kernel panics", func(t *testing.T) {
		m := m.with(t)
		url := srv.add("v3-panic.bundle", set.v3Panic)
		out, code := m.sshCode("ros os upgrade --no-reboot --bundle " + url)
		if code == 0 || !strings.Contains(out, "v3") {
			t.Fatalf("upgrade to the failed version v3 without --force: exit %d %q, want a refusal", code, out)
		}
		since := len(m.console())
		m.upgradeAndBoot("--force --bundle " + url)
		if c := m.console()[since:]; !strings.Contains(c, "Kernel panic") {
			t.Errorf("console shows no kernel panic:\n%s", tail(c, 40))
		}
		m.expectFellBack("v3", since)
		m.expectSlots("A:bad:v3 B:good:v2*")
		if got := strings.TrimSpace(m.ssh("cat /home/ros/marker")); got != "kept-across-upgrades" {
			t.Errorf("marker after two failed upgrades = %q", got)
		}
	})
}

// TestUpgradePowerCut cuts the power at each step of an upgrade (the slot
// write and the grubenv update, at their start, middle and end): every
// time the machine comes back on a good slot, and a last upgrade works.
func TestUpgradePowerCut(t *testing.T) {
	set := upgradeImages(t)
	raw := copyDisk(t, set.v1.Base+".raw")
	srv := newBundleServer(t)
	url := srv.add("v2.bundle", set.v2)
	cfg := qemu.Config{Image: raw, GuestForwards: []qemu.GuestForward{srv.forward()}}
	m := boot(t, set.v1, cfg)
	m.ssh("echo survives-power-cuts > /home/ros/marker")
	// Not subtests: each cut starts a new VM, which must live as long as
	// the whole test.
	for _, step := range upgrade.Pauses {
		go runDetached(m, "ros os upgrade --force --no-reboot --pause-at "+step+" --bundle "+url)
		m.waitConsole("ros: upgrade paused at "+step, 5*time.Minute)
		m.powerCut()
		st := m.osStatus()
		for _, s := range st.Slots {
			if s.Booted && s.State != "good" && s.State != "trying" {
				t.Errorf("after a power cut at %s: booted slot %s is %s", step, s.Name, s.State)
			}
		}
		if got := strings.TrimSpace(m.ssh("cat /home/ros/marker")); got != "survives-power-cuts" {
			t.Errorf("marker after a power cut at %s = %q", step, got)
		}
		t.Logf("after a power cut at %s: %s", step, slots(st))
	}
	t.Run("upgrade after the cuts", func(t *testing.T) {
		m := m.with(t)
		from := m.osStatus().Booted
		m.upgradeAndBoot("--force --bundle " + url)
		m.waitConsole("is good", 2*time.Minute)
		st := m.osStatus()
		if st.Booted == from || st.Version != "v2" {
			t.Errorf("after the last upgrade: booted %s (was %s), version %s; want the other slot with v2 (%s)", st.Booted, from, st.Version, slots(st))
		}
	})
}

// runDetached runs cmd over SSH and ignores how it ends (the machine
// loses power under it).
func runDetached(m *machine, cmd string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := sshcheck.Dial(ctx, sshcheck.Options{Addr: fmt.Sprintf("127.0.0.1:%d", m.vm.SSHPort()), User: "ros", Key: m.key})
	if err != nil {
		return
	}
	defer c.Close()
	_, _ = c.Run(ctx, cmd)
}

// powerCut kills QEMU (no shutdown, no flush by the guest) and boots the
// same disk again.
func (m *machine) powerCut() {
	m.t.Helper()
	if err := m.vm.Kill(); err != nil {
		m.t.Fatalf("kill qemu: %v", err)
	}
	m.vm.Close()
	m.vm = qemutest.Start(m.t, withSSH(m.cfg))
	m.waitReady()
}
