package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/assemble"
	"github.com/ros-os/ros/pkg/osbuild"
	"github.com/ros-os/ros/pkg/osimage"
	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/qemu/qemutest"
	"github.com/ros-os/ros/pkg/sshcheck"
	"github.com/ros-os/ros/tests/fixture"
	"github.com/ros-os/ros/tools/hostcmd"
)

// upgradeImages are a v1 disk trusting a bench key, and bundles of v2 and
// of a v3 whose init is missing, built into CacheDir/bench.
type upgradeImages struct {
	raw, v2, v3 string
	key         []byte
}

func buildUpgradeImages(b *testing.B) upgradeImages {
	b.Helper()
	requireBuild(b)
	dir := filepath.Join(cacheDir(b), "bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	sshKey, sshLayer, err := sshcheck.KeyLayer(dir, "ssh.yml", "ros-bench")
	if err != nil {
		b.Fatal(err)
	}
	signKey, keysLayer, err := fixture.SigningKeyLayer(dir, "bench-sign")
	if err != nil {
		b.Fatal(err)
	}
	brokenLayer := filepath.Join(dir, "broken.yml")
	if err := os.WriteFile(brokenLayer, []byte("kernel:\n  cmdline: \"console=tty0 console=ttyS0,115200 panic=5 init=/sbin/missing\"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	one := func(name, version string, formats []string, extra ...string) string {
		outs := assemble.DefaultOutputs()
		cleanup := osimage.Formats(outs, osimage.Options{Logger: logger(), CacheDir: filepath.Join(cacheDir(b), "payload"),
			PayloadOutputs: hostcmd.BundleOutputs(signKey, "")})
		defer cleanup()
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		base, err := osbuild.Build(ctx, osbuild.Options{
			Files: append([]string{rosYML, sshLayer, keysLayer}, extra...), Formats: formats, Dir: dir, Name: name,
			ImagesDir: imagesDir, Store: defaultStore(b), Outputs: outs, Logger: logger(), Version: version,
		})
		if err != nil {
			b.Fatalf("build %s: %v", name, err)
		}
		return base
	}
	return upgradeImages{
		raw: one("ros-bench-v1", "v1", []string{"raw"}) + ".raw",
		v2:  one("ros-bench-v2", "v2", []string{"bundle"}) + ".bundle",
		v3:  one("ros-bench-v3", "v3", []string{"bundle"}, brokenLayer) + ".bundle",
		key: sshKey,
	}
}

// BenchmarkUpgrade upgrades a booted v1 disk to v2 from a bundle already
// on the machine and reports the time of each step (verify, write, read
// back) against the write speed of the same virtual disk measured with dd
// in the same boot (to a file on ROS_STATE, direct I/O and synced: a user
// cannot open the slot partitions), and then upgrades to a v3 whose init
// is missing and counts the boots until the machine is back: the extra
// boots a failed upgrade costs.
func BenchmarkUpgrade(b *testing.B) {
	qemutest.Require(b)
	img := buildUpgradeImages(b)
	for range b.N {
		raw := filepath.Join(b.TempDir(), "disk.raw")
		if out, err := exec.Command("cp", "--sparse=always", img.raw, raw).CombinedOutput(); err != nil {
			b.Fatalf("copy disk: %v: %s", err, out)
		}
		console, err := os.Create(filepath.Join(cacheDir(b), "bench", "upgrade.console"))
		if err != nil {
			b.Fatal(err)
		}
		vm, err := qemu.Start(b.Context(), qemu.Config{Name: "ros-bench-upgrade", Image: raw, Firmware: qemu.BIOS,
			MemoryMiB: 1024, Forwards: []qemu.Forward{{Guest: 22}}, Console: console})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(b.Context(), 20*time.Minute)
		if _, err := vm.WaitFor(ctx, readyLine); err != nil {
			b.Fatalf("services ready: %v", err)
		}
		size := fileSize(b, img.v2)
		ddMiB := (size + 1<<20 - 1) >> 20
		ssh, err := sshcheck.Dial(ctx, sshcheck.Options{Addr: fmt.Sprintf("127.0.0.1:%d", vm.SSHPort()), User: "ros", Key: img.key})
		if err != nil {
			b.Fatalf("ssh: %v", err)
		}
		// The floor: dd through ext4 on ROS_STATE, the same virtual disk
		// (the slots cannot be opened by a user, and SSH refuses root).
		// busybox dd prints no timing: time the command from here (an SSH
		// round trip is milliseconds; the write takes seconds).
		ddStart := time.Now()
		dd, err := ssh.Run(ctx, fmt.Sprintf("dd if=/dev/zero of=/home/ros/dd.bin bs=1M count=%d oflag=direct conv=fsync 2>&1 || "+
			"dd if=/dev/zero of=/home/ros/dd.bin bs=1M count=%d conv=fsync 2>&1; rm -f /home/ros/dd.bin", ddMiB, ddMiB))
		ddSec := time.Since(ddStart).Seconds()
		if err != nil || !strings.Contains(string(dd.Stdout), "records out") {
			b.Fatalf("dd: %v: %s", err, dd.Stdout)
		}
		ddBytes := float64(ddMiB << 20)
		put := func(path, file string) {
			data, err := os.ReadFile(file)
			if err != nil {
				b.Fatal(err)
			}
			if res, err := ssh.RunInput(ctx, "cat > "+path, bytes.NewReader(data)); err != nil || res.ExitCode != 0 {
				b.Fatalf("upload %s: %v %s", file, err, res.Stderr)
			}
		}
		put("/home/ros/v2.bundle", img.v2)
		put("/home/ros/v3.bundle", img.v3)
		cl := api.NewClientDial("guest:"+api.DefaultSocket, func(context.Context) (net.Conn, error) {
			return ssh.SSH().Dial("unix", api.DefaultSocket)
		})
		res, err := cl.OSUpgrade(ctx, api.UpgradeRequest{Bundle: "/home/ros/v2.bundle", NoReboot: true}, nil)
		if err != nil {
			b.Fatalf("upgrade to v2: %v", err)
		}
		mark := len(vm.Console())
		if _, err := cl.OSUpgrade(ctx, api.UpgradeRequest{Bundle: "/home/ros/v3.bundle"}, nil); err != nil {
			b.Fatalf("upgrade to v3: %v", err)
		}
		cl.Close()
		ssh.Close()
		if _, err := vm.WaitFor(ctx, "ros: upgrade to v3 failed"); err != nil {
			b.Fatalf("back from v3: %v", err)
		}
		boots := strings.Count(vm.Console()[mark:], "ros: booting slot")
		cancel()
		vm.Close()
		console.Close()

		total := res.Verify + res.Write + res.ReadBack
		floor := time.Duration(ddSec * float64(time.Second) * float64(res.Bytes) / ddBytes)
		b.ReportMetric(float64(res.Bytes)/1e6, "payload-MB")
		b.ReportMetric(res.Verify.Seconds(), "verify-s")
		b.ReportMetric(res.Write.Seconds(), "write-s")
		b.ReportMetric(res.ReadBack.Seconds(), "readback-s")
		b.ReportMetric(total.Seconds(), "total-s")
		b.ReportMetric(floor.Seconds(), "dd-floor-s")
		b.ReportMetric(total.Seconds()/floor.Seconds(), "x-floor")
		b.ReportMetric(float64(boots-1), "extra-boots")
		b.Logf("host load %s", hostLoad())
	}
}
