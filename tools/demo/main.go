// Command demo builds the default ros OS, boots it in QEMU with its serial
// console on the terminal, shows it working (services, an SSH login) and
// powers it off: what `make demo` runs.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/ros-os/ros/pkg/assemble"
	"github.com/ros-os/ros/pkg/ocistore"
	"github.com/ros-os/ros/pkg/osbuild"
	"github.com/ros-os/ros/pkg/osimage"
	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/sshcheck"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// commands are run over SSH as the ros user once the machine is up.
var commands = []string{
	"hostname; uname -sr",
	"ros service list",
	"ip -4 addr show eth0 | grep inet",
	"tail -n 3 /var/log/ros/sshd.log",
}

func run(ctx context.Context, w io.Writer, args []string) error {
	yml := []string{"yml/ros.yml"}
	if len(args) > 0 {
		yml = args
	}
	cache, err := ocistore.CacheDir()
	if err != nil {
		return err
	}
	dir := filepath.Join(cache, "demo")
	key, layer, err := sshcheck.KeyLayer(dir, "demo-key.yml", "ros-demo")
	if err != nil {
		return err
	}

	step(w, "building %s (component images are built on first use and cached)", strings.Join(yml, " + "))
	store, err := ocistore.Open(filepath.Join(cache, "oci"))
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
	outs := assemble.DefaultOutputs()
	cleanup := osimage.Formats(outs, osimage.Options{Logger: log, CacheDir: filepath.Join(cache, "payload")})
	defer cleanup()
	start := time.Now()
	base, err := osbuild.Build(ctx, osbuild.Options{
		Files: append(yml, layer), Formats: []string{"iso"}, Dir: dir, Name: "ros-demo",
		Store: store, Outputs: outs, Logger: log,
	})
	if err != nil {
		return err
	}
	iso := base + ".iso"
	fi, err := os.Stat(iso)
	if err != nil {
		return err
	}
	step(w, "built %s (%.1f MB) in %s", iso, float64(fi.Size())/1e6, time.Since(start).Round(time.Second))

	step(w, "booting it in QEMU (software emulation is slow: about 30 s); the serial console follows")
	vm, err := qemu.Start(ctx, qemu.Config{
		Name: "ros-demo", Image: iso, MemoryMiB: 1024, Console: w,
		Forwards: []qemu.Forward{{Guest: 22}},
	})
	if err != nil {
		return err
	}
	defer vm.Close()
	boot := time.Now()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if _, err := vm.WaitForRegexp(wctx, regexp.MustCompile(`ros: services ready\r?\n`)); err != nil {
		return err
	}
	ready := time.Since(boot).Round(100 * time.Millisecond)

	addr := fmt.Sprintf("127.0.0.1:%d", vm.SSHPort())
	step(w, "services ready after %s; logging in over SSH as ros (ssh -p %d ros@127.0.0.1 -i %s)", ready, vm.SSHPort(), filepath.Join(dir, "id_ed25519"))
	client, err := sshcheck.Dial(wctx, sshcheck.Options{Addr: addr, User: "ros", Key: key})
	if err != nil {
		return err
	}
	defer client.Close()
	for _, c := range commands {
		res, err := client.Run(wctx, c)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "ros@ros:~$ %s\n%s%s", c, res.Stdout, res.Stderr)
	}

	step(w, "powering off (ACPI power button)")
	sctx, scancel := context.WithTimeout(ctx, 2*time.Minute)
	defer scancel()
	if err := vm.Shutdown(sctx); err != nil {
		return fmt.Errorf("power off: %w", err)
	}
	step(w, "done: booted in %s, services listed, SSH login worked, powered off", ready)
	return nil
}

func step(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, "\n==> "+format+"\n", a...)
}
