package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/sshcheck"
	"github.com/ros-os/ros/upgrade"
)

// The soak run (`make soak`): ROS_SOAK_CYCLES cycles of power cut (maybe),
// upgrade, rollback on one machine, checking after each step that a good
// slot runs, /var data is intact and every service runs.

const (
	// soakCutMax bounds the random delay of a cut into a reboot, counted
	// from the return of `ros os upgrade` or `ros os rollback` (the machine
	// goes down a second later), until a rollback has been timed: then the
	// bound is 5/4 of the last rollback's reboot to confirmation, so the
	// cuts spread over the shutdown, firmware and GRUB, the kernel, init,
	// the services and a little after however loaded the host is. Alone on
	// this host under TCG that reboot takes about 30–40 s.
	soakCutMax = 45 * time.Second
	// soakTrialWait bounds a reboot into a trial slot until it is good or
	// the machine is back on the good slot (rosd's trial timeout is 5 min).
	soakTrialWait = 10 * time.Minute
	// soakCommandWait bounds `ros os upgrade` (fetch, verify, write, read back).
	soakCommandWait = 10 * time.Minute
	soakBigSize     = 4 << 20
	soakMarker      = "/home/ros/soak-marker"
	soakBig         = "/home/ros/soak.bin"
)

// trialEnd is what rosd prints when a trial boot ends: the slot is good,
// or GRUB came back to the good slot.
var trialEnd = regexp.MustCompile(`ros: slot ([AB]) \((\S+)\) is good\r?\n|ros: (?:upgrade to (\S+) failed|rollback to (\S+) did not complete); back on slot ([AB])[^\n]*\n`)

// soakRow is one cycle in the summary.
type soakRow struct {
	cycle    int
	cut      string // none, "pause write:middle", "trial +12.3s (kernel)" ...
	afterCut string // slots once the machine is back from the cut
	slots    string // slots at the end of the cycle
	upgrade  time.Duration
	rollback time.Duration
	total    time.Duration
	stage    string // the step running when the cycle failed
	failed   bool
	errors   []string
}

// soak drives one machine through the cycles.
type soak struct {
	top     *testing.T // owns the VMs: a cycle's subtest ends before them
	m       *machine   // reports to the running cycle's subtest
	rng     *rand.Rand
	urls    map[string]string // bundle URL by version (v1, v2)
	marker  string            // text of soakMarker
	bigHash string            // sha256 of soakBig
	reboot  time.Duration     // the last rollback, command to confirmation
	row     *soakRow
}

// TestSoak runs ROS_SOAK_CYCLES cycles of upgrade, reboot, health check and
// rollback on one machine, with power cuts injected at random (seeded by
// ROS_SOAK_SEED), and prints a table of the cycles.
func TestSoak(t *testing.T) {
	cycles, seed := soakSettings(t)
	say(t, "soak: %d cycles, seed %d (replay with ROS_SOAK_SEED=%d)", cycles, seed, seed)
	set := upgradeImages(t)
	v1 := buildImages(buildSpec{name: "ros-e2e-soak-v1", files: []string{"../../yml/ros.yml"}, formats: []string{"bundle"}, version: "v1"})
	if v1.err != nil {
		t.Fatalf("build the v1 bundle: %v", v1.err)
	}
	// Copies: other test runs rebuild the shared cache while this one runs.
	srv := newBundleServer(t)
	urls := map[string]string{
		"v1": srv.add("v1.bundle", copyDisk(t, v1.Base+".bundle")),
		"v2": srv.add("v2.bundle", copyDisk(t, set.v2)),
	}
	raw := copyDisk(t, set.v1.Base+".raw")
	m := boot(t, set.v1, qemu.Config{Image: raw, GuestForwards: []qemu.GuestForward{srv.forward()}})
	s := &soak{top: t, m: m, rng: rand.New(rand.NewPCG(seed, 0x50a4)), urls: urls}
	s.writeData(seed)

	var rows []soakRow
	start := time.Now()
	defer func() { s.summary(seed, rows, time.Since(start)) }()
	for i := 1; i <= cycles; i++ {
		row := soakRow{cycle: i, cut: "none"}
		began := time.Now()
		ok := t.Run(fmt.Sprintf("cycle-%02d", i), func(t *testing.T) {
			s.m, s.row = s.m.with(t), &row
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("console (last 60 lines):\n%s", s.m.vm.ConsoleTail(60))
				}
			})
			s.cycle()
		})
		s.m = s.m.with(t) // keeps the VM the cycle may have restarted
		row.total, row.failed = time.Since(began), !ok
		rows = append(rows, row)
		say(t, "soak: cycle %d: %s", i, row)
		if !ok {
			if err := s.answers(); err != nil {
				t.Fatalf("cycle %d failed (%s) and the machine does not answer: %v\n%s", i, row.stage, err, s.m.vm.ConsoleTail(60))
			}
		}
	}
}

// soakSettings reads ROS_SOAK_CYCLES (the test is skipped without it) and
// ROS_SOAK_SEED (default: the time).
func soakSettings(t *testing.T) (int, uint64) {
	env := os.Getenv("ROS_SOAK_CYCLES")
	if env == "" {
		t.Skip("the soak run needs ROS_SOAK_CYCLES=N (make soak); make test and go test ./... leave it out")
	}
	cycles, err := strconv.Atoi(env)
	if err != nil || cycles < 1 {
		t.Fatalf("ROS_SOAK_CYCLES=%q: want a number of cycles, 1 or more", env)
	}
	seed := uint64(time.Now().UnixNano())
	if env := os.Getenv("ROS_SOAK_SEED"); env != "" {
		if seed, err = strconv.ParseUint(env, 10, 64); err != nil {
			t.Fatalf("ROS_SOAK_SEED=%q: want an unsigned number", env)
		}
	}
	return cycles, seed
}

// say logs and prints to stdout, so `make soak` shows it without -v.
func say(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf(format, args...)
	fmt.Printf(format+"\n", args...)
}

// writeData checks /home/ros is kept on ROS_STATE (/var) and writes the
// marker and the big file there, synced to disk before the first cut.
func (s *soak) writeData(seed uint64) {
	m := s.m
	checkVarBacked(m)
	s.marker = fmt.Sprintf("soak seed %d", seed)
	var key [32]byte
	copy(key[:], strconv.FormatUint(seed, 10))
	big := make([]byte, soakBigSize)
	_, _ = rand.NewChaCha8(key).Read(big)
	sum := sha256.Sum256(big)
	s.bigHash = hex.EncodeToString(sum[:])
	m.put(soakMarker, []byte(s.marker+"\n"))
	m.put(soakBig, big)
	m.ssh("sync")
	if got := guestHash(m); got != s.bigHash {
		m.t.Fatalf("sha256 of %s on the machine = %s, want %s", soakBig, got, s.bigHash)
	}
}

// checkVarBacked fails the test unless /home is the overlay whose upper
// directory is under /var and /var is ext4 on the ROS_STATE partition.
func checkVarBacked(m *machine) {
	m.t.Helper()
	var home, state string
	for line := range strings.Lines(m.ssh("cat /proc/mounts")) {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		switch {
		case f[1] == "/home":
			home = line
		case strings.HasPrefix(f[1], "/var/") && f[2] == "ext4" && strings.HasPrefix(f[0], "/dev/"):
			uevent := m.ssh("cat /sys/class/block/" + strings.TrimPrefix(f[0], "/dev/") + "/uevent")
			if strings.Contains(uevent, "PARTNAME=ROS_STATE\n") || strings.Contains(uevent, "PARTNAME=RANCHER_STATE\n") {
				state = line
			}
		}
	}
	if f := strings.Fields(home); len(f) < 4 || f[2] != "overlay" || !strings.Contains(f[3], "upperdir=/var/") {
		m.t.Fatalf("/home is mounted as %q, want an overlay whose upperdir is under /var", strings.TrimSpace(home))
	}
	if state == "" {
		m.t.Fatalf("no ext4 mount under /var from the ROS_STATE partition")
	}
	m.t.Logf("/home: %s/var: %s", home, state)
}

// guestHash is the sha256 of soakBig as the machine reads it.
func guestHash(m *machine) string {
	m.t.Helper()
	return field(m.ssh("sha256sum "+soakBig), 0)
}

// cycle is one soak cycle: maybe a power cut, then upgrade and rollback,
// with checks after each.
func (s *soak) cycle() {
	if s.rng.IntN(2) == 0 {
		s.cut()
		s.row.afterCut = slots(s.check("after the cut"))
	} else {
		s.check("at the start")
	}
	s.upgrade()
	s.rollback()
	s.stage("end of the cycle")
	s.row.slots = slots(s.m.osStatus())
}

// stage names the step the cycle is at, for the summary.
func (s *soak) stage(name string) { s.row.stage = name }

// errorf fails the cycle with a message and goes on.
func (s *soak) errorf(format string, args ...any) {
	s.m.t.Helper()
	msg := fmt.Sprintf(format, args...)
	s.m.t.Error(msg)
	s.row.errors = append(s.row.errors, s.row.stage+": "+msg)
}

// cut cuts the power at a random point: at a pause of an upgrade, or some
// seconds into the reboot after an upgrade or a rollback. The machine
// boots the same disk again.
func (s *soak) cut() {
	m := s.m
	s.stage("cut")
	st := m.osStatus()
	kinds := []string{"pause", "trial"}
	if slotOf(st, grub.Other(st.Booted)).State == "good" {
		kinds = append(kinds, "rollback")
	}
	switch kind := kinds[s.rng.IntN(len(kinds))]; kind {
	case "pause":
		step := upgrade.Pauses[s.rng.IntN(len(upgrade.Pauses))]
		s.row.cut = "pause " + step
		s.pauseCut(step, s.target(st))
	default:
		bound := soakCutMax
		if s.reboot > 0 {
			bound = s.reboot * 5 / 4
		}
		delay := time.Duration(s.rng.Float64() * float64(bound)).Round(100 * time.Millisecond)
		since := len(m.console())
		if kind == "trial" {
			s.longRos("os upgrade --force --bundle " + s.urls[s.target(st)])
		} else {
			m.ros("os rollback")
		}
		select {
		case <-time.After(delay):
		case <-m.t.Context().Done():
			m.t.Fatalf("waiting to cut the power: %v", m.t.Context().Err())
		}
		s.row.cut = fmt.Sprintf("%s +%.1fs (%s)", kind, delay.Seconds(), bootPhase(m.console()[since:]))
		s.powerCut()
	}
	if strings.Contains(m.console(), "; back on slot") {
		s.row.cut += ", fell back"
	}
}

// pauseCut runs an upgrade to version that stops at step, and cuts the
// power there.
func (s *soak) pauseCut(step, version string) {
	m := s.m
	ctx, cancel := context.WithTimeout(m.t.Context(), soakCommandWait)
	defer cancel()
	// The goroutines keep the VM of now: powerCut replaces m.vm.
	snap, vm := *m, m.vm
	done := make(chan string, 1)
	go func() {
		res, err := runSSHResult(ctx, &snap, "ros os upgrade --force --no-reboot --pause-at "+step+" --bundle "+s.urls[version])
		done <- fmt.Sprintf("%s%s %v", res.Stdout, res.Stderr, err)
	}()
	paused := make(chan error, 1)
	go func() {
		_, err := vm.WaitFor(ctx, "ros: upgrade paused at "+step)
		paused <- err
	}()
	select {
	case err := <-paused:
		if err != nil {
			m.t.Fatalf("waiting for the upgrade to pause at %s: %v", step, err)
		}
	case out := <-done:
		cancel()
		<-paused
		m.t.Fatalf("ros os upgrade --pause-at %s ended before pausing: %s", step, out)
	}
	s.powerCut()
}

// powerCut kills QEMU and boots the same disk in a VM owned by the whole
// test, then waits for services ready and for a trial to end.
func (s *soak) powerCut() {
	m := s.m
	if err := m.vm.Kill(); err != nil {
		m.t.Fatalf("kill qemu: %v", err)
	}
	m.vm.Close()
	vm, err := qemu.Start(s.top.Context(), withSSH(m.cfg))
	if err != nil {
		m.t.Fatalf("qemu.Start() = %v", err)
	}
	s.top.Cleanup(func() { vm.Close() })
	m.vm = vm
	m.waitReady()
	// rosd prints the trial line before it waits for services ready, and
	// confirms the slot right after: grubenv may already say good.
	if st := m.osStatus(); st.Trial || strings.Contains(m.console(), "ros: trial boot of slot") {
		s.waitTrial(st.Booted, slotOf(st, st.Booted).Version)
	}
}

// bootPhase says how far a reboot had got, from the console since the
// command that started it.
func bootPhase(c string) string {
	for _, p := range []struct{ text, phase string }{
		{"is good", "after the confirmation"},
		{"ros: services ready", "services ready"},
		{"ros: trial boot of slot", "trial started"},
		{"; back on slot", "back on the good slot"},
		{"Run /init", "init"},
		{"Linux version", "kernel"},
		{"reboot: Restarting", "firmware, GRUB"},
	} {
		if strings.Contains(c, p.text) {
			return p.phase
		}
	}
	return "shutdown"
}

// check checks a good slot runs, /var data is intact and every service
// runs; it returns the status.
func (s *soak) check(when string) api.OSStatus {
	m := s.m
	s.stage("check " + when)
	st := m.osStatus()
	if state := slotOf(st, st.Booted).State; state != "good" {
		s.errorf("%s: booted slot %s is %s, want good (%s)", when, st.Booted, state, slots(st))
	}
	if got := strings.TrimSpace(m.ssh("cat " + soakMarker)); got != s.marker {
		s.errorf("%s: %s = %q, want %q", when, soakMarker, got, s.marker)
	}
	if got := guestHash(m); got != s.bigHash {
		s.errorf("%s: sha256 of %s = %s, want %s", when, soakBig, got, s.bigHash)
	}
	if bad := notRunning(m.services()); len(bad) > 0 {
		s.errorf("%s: services not running: %s", when, strings.Join(bad, "; "))
	}
	return st
}

// upgrade upgrades the other slot, boots it and checks it.
func (s *soak) upgrade() {
	m := s.m
	s.stage("upgrade")
	st := m.osStatus()
	from, to, version := st.Booted, grub.Other(st.Booted), s.target(st)
	start := time.Now()
	out := s.longRos("os upgrade --force --bundle " + s.urls[version])
	if !strings.Contains(out, "in slot "+to) {
		s.errorf("ros os upgrade said %q, want %s -> %s in slot %s", strings.TrimSpace(out), st.Version, version, to)
	}
	s.waitTrial(to, version)
	s.row.upgrade = time.Since(start)
	st = s.check("after the upgrade")
	if st.Booted != to || st.Version != version {
		s.errorf("after the upgrade from slot %s: booted %s %s, want slot %s with %s (%s)", from, st.Booted, st.Version, to, version, slots(st))
	}
}

// rollback rolls back to the other slot and checks it.
func (s *soak) rollback() {
	m := s.m
	s.stage("rollback")
	st := m.osStatus()
	to := grub.Other(st.Booted)
	version := slotOf(st, to).Version
	start := time.Now()
	m.ros("os rollback")
	s.waitTrial(to, version)
	s.row.rollback = time.Since(start)
	s.reboot = s.row.rollback
	st = s.check("after the rollback")
	if st.Booted != to || st.Version != version {
		s.errorf("after the rollback: booted %s %s, want slot %s with %s (%s)", st.Booted, st.Version, to, version, slots(st))
	}
}

// waitTrial waits until the trial boot of slot ends; it fails the cycle
// unless the slot was confirmed with version.
func (s *soak) waitTrial(slot, version string) {
	m := s.m
	ctx, cancel := context.WithTimeout(m.t.Context(), soakTrialWait)
	defer cancel()
	got, err := m.vm.WaitForRegexp(ctx, trialEnd)
	if err != nil {
		m.t.Fatalf("waiting for the trial boot of slot %s (%s) to end: %v", slot, version, err)
	}
	if got[1] == "" {
		s.errorf("trial boot of slot %s (%s) failed: %s", slot, version, strings.TrimSpace(got[0]))
		m.waitReady()
		return
	}
	if got[1] != slot || got[2] != version {
		s.errorf("%q, want slot %s (%s) good", strings.TrimSpace(got[0]), slot, version)
	}
}

// target is the version to write into the idle slot: the one it does not
// hold, so every upgrade changes the slot's bytes.
func (s *soak) target(st api.OSStatus) string {
	if slotOf(st, grub.Other(st.Booted)).Version == "v2" {
		return "v1"
	}
	return "v2"
}

// longRos runs `ros ARGS`, which may take minutes, and returns its output.
func (s *soak) longRos(args string) string {
	m := s.m
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), soakCommandWait)
	defer cancel()
	res, err := runSSHResult(ctx, m, "ros "+args)
	if err != nil {
		m.t.Fatalf("ros %s: %v", args, err)
	}
	out := string(res.Stdout) + string(res.Stderr)
	if res.ExitCode != 0 {
		m.t.Fatalf("ros %s: exit %d:\n%s", args, res.ExitCode, out)
	}
	return out
}

// answers says whether the machine still takes commands (within two minutes).
func (s *soak) answers() error {
	ctx, cancel := context.WithTimeout(s.top.Context(), 2*time.Minute)
	defer cancel()
	res, err := runSSHResult(ctx, s.m, "ros os version")
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("ros os version: exit %d: %s", res.ExitCode, res.Stderr)
	}
	return nil
}

// runSSHResult runs cmd as ros, retrying the login until ctx ends.
func runSSHResult(ctx context.Context, m *machine, cmd string) (sshcheck.Result, error) {
	c, err := sshcheck.Dial(ctx, sshcheck.Options{Addr: fmt.Sprintf("127.0.0.1:%d", m.vm.SSHPort()), User: "ros", Key: m.key, RetryInterval: 2 * time.Second})
	if err != nil {
		return sshcheck.Result{}, fmt.Errorf("ssh %q: %w", cmd, err)
	}
	defer c.Close()
	res, err := c.Run(ctx, cmd)
	if err != nil {
		return res, fmt.Errorf("ssh %q: %w", cmd, err)
	}
	return res, nil
}

// summary prints one row per cycle and the totals.
func (s *soak) summary(seed uint64, rows []soakRow, took time.Duration) {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "cycle\tcut\tafter the cut\tslots after\tupgrade+boot\trollback+boot\tcycle\tresult")
	cuts, failures := 0, 0
	for _, r := range rows {
		if r.failed {
			failures++
		}
		if r.cut != "none" {
			cuts++
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.cycle, r.cut, dash(r.afterCut), dash(r.slots),
			secs(r.upgrade), secs(r.rollback), secs(r.total), r.result())
	}
	w.Flush()
	fmt.Fprintf(&b, "total: %d cycles, %d cuts, %d failures, %s (seed %d)\n", len(rows), cuts, failures, took.Round(time.Second), seed)
	s.top.Log("soak summary:\n" + b.String())
	fmt.Print("soak summary:\n" + b.String())
}

// result is ok, or the first failure of the cycle.
func (r soakRow) result() string {
	switch {
	case !r.failed:
		return "ok"
	case len(r.errors) > 0:
		return "FAIL: " + r.errors[0]
	}
	return "FAIL at " + r.stage
}

// String is the row on one line, for the progress of the run.
func (r soakRow) String() string {
	return fmt.Sprintf("cut %s; after the cut %s; slots after %s; upgrade+boot %s, rollback+boot %s, cycle %s; %s",
		r.cut, dash(r.afterCut), dash(r.slots), secs(r.upgrade), secs(r.rollback), secs(r.total), r.result())
}

func secs(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0fs", d.Seconds())
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// slotOf is the slot named name.
func slotOf(st api.OSStatus, name string) api.OSSlot {
	for _, s := range st.Slots {
		if s.Name == name {
			return s
		}
	}
	return api.OSSlot{}
}
