package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/qemu/qemutest"
	"github.com/ros-os/ros/pkg/sshcheck"
	"github.com/ros-os/ros/pkg/testkernel"
)

// readyLine is what rosd prints on the console once every service runs.
const readyLine = "ros: services ready"

// bootTimeout bounds one boot to services ready under TCG.
const bootTimeout = 5 * time.Minute

// floorCmdline is yml/ros.yml's kernel command line, so the floor kernel
// writes the same console output as a ros boot.
const floorCmdline = "console=tty0 console=ttyS0,115200 panic=5"

var floorLine = regexp.MustCompile(`ros-bench: floor init at kernel uptime ([0-9.]+)s`)

// BenchmarkBootFloor boots the bare Debian kernel of the test kernel
// package with a one-program initramfs that prints a line and powers off:
// the least any boot here can take. Reported from QEMU start to that line,
// on SeaBIOS and on OVMF (direct kernel boot, no boot loader).
func BenchmarkBootFloor(b *testing.B) {
	qemutest.Require(b)
	k := testkernel.Get(b)
	initrd := qemutest.GoInitrd(b, "./testdata/floorinit")
	for _, fw := range []qemu.Firmware{qemu.BIOS, qemu.UEFI} {
		b.Run(string(fw), func(b *testing.B) {
			var took, uptime time.Duration
			load := hostLoad()
			for range b.N {
				start := time.Now()
				vm, err := qemu.Start(b.Context(), qemu.Config{
					Name: "ros-bench-floor", Kernel: k.Vmlinuz, Initrd: initrd, Cmdline: floorCmdline,
					Firmware: fw, NoReboot: true,
				})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(b.Context(), bootTimeout)
				m, err := vm.WaitForRegexp(ctx, floorLine)
				cancel()
				took += time.Since(start)
				vm.Close()
				if err != nil {
					b.Fatal(err)
				}
				uptime += seconds(m[1])
			}
			n := time.Duration(b.N)
			b.ReportMetric((took / n).Seconds(), "ready-s")
			b.ReportMetric((uptime / n).Seconds(), "kernel-s")
			b.Logf("floor (%s, %s, direct kernel boot, 1024 MiB, host load %s): QEMU start to the initramfs's line %.2f s; kernel uptime then %.2f s",
				fw, k.Version, load, (took / n).Seconds(), (uptime / n).Seconds())
		})
	}
}

// BenchmarkBoot boots yml/ros.yml (plus an SSH key) as ISO and as disk
// under UEFI with 1024 MiB, and the disk built with --compression xz,
// and reports the time from QEMU start to `ros: services ready`, where it
// went (firmware, kernel, stage 1, stage 2 and each logged phase) and the
// memory in use (MemTotal - MemAvailable) once SSH answers.
func BenchmarkBoot(b *testing.B) {
	qemutest.Require(b)
	img := images(b)
	media := []struct {
		name string
		cfg  qemu.Config
	}{
		{"iso-uefi", qemu.Config{Image: img.base + ".iso", Firmware: qemu.UEFI}},
		{"disk-uefi", qemu.Config{Image: img.base + ".raw", Firmware: qemu.UEFI, Snapshot: true}},
		{"disk-uefi-xz", qemu.Config{Image: img.xz + ".raw", Firmware: qemu.UEFI, Snapshot: true}},
	}
	for _, m := range media {
		b.Run(m.name, func(b *testing.B) {
			var ready time.Duration
			var last bootRun
			for range b.N {
				r := boot(b, img, m.name, m.cfg, 1024)
				if !r.reached {
					b.Fatalf("%s did not reach %q: %v\n%s", m.name, readyLine, r.err, r.tail)
				}
				ready += r.ready
				last = r
			}
			ready /= time.Duration(b.N)
			reportBoot(b, ready, last)
			b.Logf("boot %s (UEFI, TCG, 1024 MiB, host load %s): QEMU start to services ready %.1f s; memory used %.0f MiB (held %.0f MiB) of %.0f MiB\n%s",
				m.name, last.load, ready.Seconds(), mib(last.mem.used), mib(last.mem.held), mib(last.mem.total), last.log.report(ready))
		})
	}
}

// BenchmarkBoot256MiB boots the disk image in a 256 MiB VM, under UEFI
// and under BIOS, and reports whether it reaches services ready (reached
// 1 or 0), and if so when and with how much memory in use.
func BenchmarkBoot256MiB(b *testing.B) {
	qemutest.Require(b)
	img := images(b)
	for _, fw := range []qemu.Firmware{qemu.UEFI, qemu.BIOS} {
		b.Run(string(fw), func(b *testing.B) {
			label := "disk-" + string(fw) + "-256MiB"
			cfg := qemu.Config{Image: img.base + ".raw", Firmware: fw, Snapshot: true}
			var r bootRun
			for range b.N {
				r = boot(b, img, label, cfg, 256)
				if !r.reached {
					break
				}
			}
			if !r.reached {
				b.ReportMetric(0, "reached")
				b.Logf("%s (host load %s): did NOT reach services ready: %v\n%s", label, r.load, r.err, r.tail)
				return
			}
			b.ReportMetric(1, "reached")
			b.ReportMetric(r.ready.Seconds(), "ready-s")
			reportMemory(b, r.mem)
			b.Logf("%s (host load %s): services ready in %.1f s; memory used %.0f MiB (held %.0f MiB) of %.0f MiB",
				label, r.load, r.ready.Seconds(), mib(r.mem.used), mib(r.mem.held), mib(r.mem.total))
		})
	}
}

// bootRun is one measured boot.
type bootRun struct {
	reached bool
	err     error // why it did not reach services ready, or why SSH failed
	ready   time.Duration
	log     bootLog
	mem     memory // zero when SSH failed
	tail    string
	load    string // host load when the boot started
}

// boot starts cfg with memMiB, waits for services ready, reads
// /proc/meminfo over SSH and stops the VM.
// The whole console is kept in CacheDir/bench/LABEL.console, /proc/meminfo
// in LABEL.meminfo.
func boot(b *testing.B, img bootImages, label string, cfg qemu.Config, memMiB int) bootRun {
	b.Helper()
	clock := &lineClock{}
	cfg.Name = "ros-bench"
	cfg.MemoryMiB = memMiB
	cfg.NoReboot = true // a panic ends the run instead of looping
	cfg.Console = clock
	cfg.Forwards = append(cfg.Forwards, qemu.Forward{Guest: 22})
	clock.start = time.Now()
	vm, err := qemu.Start(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer vm.Close()
	defer func() {
		path := filepath.Join(cacheDir(b), "bench", label+".console")
		if err := os.WriteFile(path, []byte(vm.Console()), 0o644); err != nil {
			b.Logf("save console: %v", err)
		}
	}()
	ctx, cancel := context.WithTimeout(b.Context(), bootTimeout)
	defer cancel()
	r := bootRun{load: hostLoad()}
	if _, err := vm.WaitFor(ctx, readyLine); err != nil {
		// The error quotes the console; keep its first line, the tail is below.
		first, _, _ := strings.Cut(err.Error(), "\n")
		r.err = errors.New(first)
		if errors.Is(err, qemu.ErrExited) {
			r.err = fmt.Errorf("%s (QEMU exited: %s)", first, strings.TrimSpace(vm.Stderr()))
		}
		r.tail = fmt.Sprintf("console %s.console in %s/bench, last lines:\n%s", label, cacheDir(b), vm.ConsoleTail(6))
		return r
	}
	r.reached, r.ready = true, time.Since(clock.start)
	res, err := sshcheck.Run(ctx, sshcheck.Options{
		Addr: fmt.Sprintf("127.0.0.1:%d", vm.SSHPort()), User: "ros", Key: img.key,
	}, "cat /proc/meminfo")
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("exit %d: %s", res.ExitCode, res.Stderr)
	}
	if err == nil {
		r.mem, err = readMemory(string(res.Stdout))
		if err := os.WriteFile(filepath.Join(cacheDir(b), "bench", label+".meminfo"), res.Stdout, 0o644); err != nil {
			b.Logf("meminfo not kept: %v", err)
		}
	}
	if err != nil {
		b.Logf("memory not measured: ssh cat /proc/meminfo: %v", err)
	}
	// Parsed after SSH: by now the ready line has surely reached the tee.
	r.log = parseBootLog(clock.Lines())
	if r.log.readyAt == 0 {
		r.log.readyAt = r.ready
	}
	if strings.Contains(vm.Console(), readyLine+" except") {
		b.Logf("%s: not every service started: %s", label, exceptLine.FindString(vm.Console()))
	}
	return r
}

var exceptLine = regexp.MustCompile(`ros: services ready except .*`)

// reportBoot reports one boot's metrics: ready-s, the four spans, each
// phase (STAGE-NAME-ms) and the memory in use.
func reportBoot(b *testing.B, ready time.Duration, r bootRun) {
	b.ReportMetric(ready.Seconds(), "ready-s")
	if s, ok := r.log.split(); ok {
		b.ReportMetric(s.firmware.Seconds(), "firmware-s")
		b.ReportMetric(s.kernel.Seconds(), "kernel-s")
		b.ReportMetric(s.stage1.Seconds(), "stage1-s")
		b.ReportMetric(s.stage2.Seconds(), "stage2-s")
		b.ReportMetric(r.log.rootUptime.Seconds(), "root-uptime-s")
	}
	for _, p := range r.log.phases {
		b.ReportMetric(float64(p.took.Milliseconds()), p.stage+"-"+p.name+"-ms")
	}
	reportMemory(b, r.mem)
}

// memory is what /proc/meminfo says after boot, in bytes.
type memory struct {
	total int64
	// used is MemTotal - MemAvailable, the figure the goal is set in. The
	// kernel's estimate of what is available leaves out its reserves (the
	// zones' high watermarks and lowmem reserves) and a low watermark's
	// worth each of page cache and reclaimable slab, and those grow with
	// the RAM: about 18.5 MiB at 1 GiB, 7.8 MiB at 256 MiB.
	used int64
	// held is what nothing can reclaim: MemTotal - MemFree - file pages -
	// reclaimable slab. The memory the machine's programs and the kernel
	// actually keep, whatever the RAM.
	held int64
}

// readMemory parses /proc/meminfo.
func readMemory(meminfo string) (memory, error) {
	vals := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(meminfo))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		vals[strings.TrimSuffix(f[0], ":")] = n << 10 // kB
	}
	for _, k := range []string{"MemTotal", "MemFree", "MemAvailable", "Active(file)", "Inactive(file)", "SReclaimable"} {
		if _, ok := vals[k]; !ok {
			return memory{}, fmt.Errorf("meminfo without %s: %q", k, meminfo)
		}
	}
	t := vals["MemTotal"]
	return memory{
		total: t,
		used:  t - vals["MemAvailable"],
		held:  t - vals["MemFree"] - vals["Active(file)"] - vals["Inactive(file)"] - vals["SReclaimable"],
	}, nil
}

// reportMemory reports used and held memory, when measured.
func reportMemory(b *testing.B, m memory) {
	if m.total > 0 {
		b.ReportMetric(mib(m.used), "mem-used-MiB")
		b.ReportMetric(mib(m.held), "mem-held-MiB")
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
