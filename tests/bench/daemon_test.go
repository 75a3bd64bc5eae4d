package bench

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/qemu/qemutest"
	"github.com/ros-os/ros/pkg/sshcheck"
	"github.com/ros-os/ros/tests/fixture"
)

var appliedLine = regexp.MustCompile(`ros: cloud-config applied`)

// apiCalls is how many `ros service list` round trips the p99 is taken
// over.
const apiCalls = 200

// BenchmarkDaemon boots the ISO with an EC2-style metadata server on the
// host (reached at 169.254.169.254) and reports: the time from services
// ready to the metadata's cloud-config applied, the latency of the API
// call behind `ros service list` (p50 and p99, through the SSH-forwarded
// socket, so the tunnel is included), and rosd's resident memory at idle.
func BenchmarkDaemon(b *testing.B) {
	qemutest.Require(b)
	img := images(b)
	for range b.N {
		imds := &fixture.IMDS{UserData: []byte("#cloud-config\nhostname: bench-box\n"), InstanceID: "i-bench"}
		srv := imds.Start()
		vm, err := qemu.Start(b.Context(), qemu.Config{Name: "ros-bench-daemon", Image: img.base + ".iso", Firmware: qemu.BIOS,
			MemoryMiB: 1024, NoReboot: true, Forwards: []qemu.Forward{{Guest: 22}},
			GuestForwards: []qemu.GuestForward{fixture.GuestForward(srv)}})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(b.Context(), bootTimeout)
		if _, err := vm.WaitForRegexp(ctx, regexp.MustCompile(readyLine)); err != nil {
			b.Fatalf("services ready: %v\n%s", err, vm.ConsoleTail(4000))
		}
		ready := time.Now()
		if _, err := vm.WaitForRegexp(ctx, appliedLine); err != nil {
			b.Fatalf("cloud-config applied: %v\n%s", err, vm.ConsoleTail(4000))
		}
		applied := time.Since(ready)
		ssh, err := sshcheck.Dial(ctx, sshcheck.Options{Addr: fmt.Sprintf("127.0.0.1:%d", vm.SSHPort()), User: "ros", Key: img.key})
		if err != nil {
			b.Fatalf("ssh: %v", err)
		}
		cl := api.NewClientDial("guest:"+api.DefaultSocket, func(context.Context) (net.Conn, error) {
			return ssh.SSH().Dial("unix", api.DefaultSocket)
		})
		var lat []time.Duration
		for i := range apiCalls + 10 {
			start := time.Now()
			if _, err := cl.Services(ctx); err != nil {
				b.Fatalf("Services over the forwarded socket: %v", err)
			}
			if i >= 10 { // the first calls open the connection and warm caches
				lat = append(lat, time.Since(start))
			}
		}
		slices.Sort(lat)
		p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
		rss, anon := rosdMemory(ctx, b, ssh)
		cl.Close()
		ssh.Close()
		cancel()
		vm.Close()
		srv.Close()
		b.ReportMetric(applied.Seconds(), "ready-to-applied-s")
		b.ReportMetric(float64(p50.Microseconds())/1000, "api-p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "api-p99-ms")
		b.ReportMetric(float64(rss)/1024, "rosd-rss-MiB")
		b.ReportMetric(float64(anon)/1024, "rosd-anon-MiB")
		b.Logf("daemon (ISO, BIOS, TCG, host load %s): services ready to cloud-config applied %.2f s; ros service list API p50 %.1f ms, p99 %.1f ms over %d calls through SSH; rosd VmRSS %.1f MiB (anonymous %.1f MiB)",
			hostLoad(), applied.Seconds(), float64(p50.Microseconds())/1000, float64(p99.Microseconds())/1000, apiCalls, float64(rss)/1024, float64(anon)/1024)
	}
}

// rosdMemory reads VmRSS and RssAnon (KiB) of the `ros daemon` process.
func rosdMemory(ctx context.Context, b *testing.B, c *sshcheck.Client) (rss, anon int64) {
	b.Helper()
	const script = `for d in /proc/[0-9]*; do c=$(busybox tr '\0' ' ' < $d/cmdline 2>/dev/null); case "$c" in "ros daemon "*|"/usr/bin/ros daemon "*) grep -E '^(VmRSS|RssAnon):' $d/status;; esac; done`
	res, err := c.Run(ctx, script)
	if err != nil {
		b.Fatalf("read rosd memory: %v", err)
	}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = n
		case "RssAnon:":
			anon = n
		}
	}
	if rss == 0 {
		b.Fatalf("no rosd process found:\n%s%s", res.Stdout, res.Stderr)
	}
	return rss, anon
}
