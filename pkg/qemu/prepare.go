package qemu

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// withDefaults returns a copy of c with zero fields defaulted.
func (c Config) withDefaults() Config {
	if c.Firmware == "" {
		c.Firmware = BIOS
	}
	if c.MemoryMiB == 0 {
		c.MemoryMiB = DefaultMemoryMiB
	}
	if c.CPUs == 0 {
		c.CPUs = DefaultCPUs
	}
	if c.Machine == "" {
		c.Machine = DefaultMachine
	}
	if c.NIC == "" {
		c.NIC = DefaultNIC
	}
	if c.Binary == "" {
		c.Binary = DefaultBinary
	}
	if c.OVMFCode == "" {
		c.OVMFCode = DefaultOVMFCode
	}
	if c.OVMFVars == "" {
		c.OVMFVars = DefaultOVMFVars
	}
	if c.SeedLabel == "" {
		c.SeedLabel = "cidata"
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	c.Kind = c.kind()
	return c
}

// makePlan validates cfg and does every side effect the command line needs,
// creating files inside dir (the VM's private temporary directory).
func makePlan(ctx context.Context, cfg Config, dir string, interactive bool) (*plan, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := cfg.withDefaults()
	p := &plan{cfg: c, interactive: interactive, qmpSocket: filepath.Join(dir, "qmp.sock")}

	binary, err := exec.LookPath(c.Binary)
	if err != nil {
		return nil, fmt.Errorf("find qemu: %w", err)
	}
	p.cfg.Binary = binary
	if p.accel, err = accel(c.Accel); err != nil {
		return nil, err
	}

	for _, f := range []string{c.Image, c.Kernel, c.Initrd} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("boot file: %w", err)
		}
	}

	if c.Firmware == UEFI {
		if _, err := os.Stat(c.OVMFCode); err != nil {
			return nil, fmt.Errorf("UEFI firmware (apt-get install ovmf): %w", err)
		}
		p.ovmfVars = c.OVMFVars
		if !c.PersistVars {
			p.ovmfVars = filepath.Join(dir, "OVMF_VARS.fd")
			if err := copyFile(c.OVMFVars, p.ovmfVars); err != nil {
				return nil, fmt.Errorf("copy UEFI variables: %w", err)
			}
		}
	}

	for i, d := range c.Disks {
		if d.Path == "" {
			d.Path = filepath.Join(dir, fmt.Sprintf("disk%d.qcow2", i+1))
			d.Format = "qcow2"
			if err := CreateDisk(ctx, d.Path, d.Format, d.Size); err != nil {
				return nil, err
			}
		} else if _, err := os.Stat(d.Path); err != nil {
			return nil, fmt.Errorf("disk %d: %w", i, err)
		}
		d.Format = diskFormat(d.Path, d.Format)
		p.disks = append(p.disks, d)
	}

	if c.Seed != "" {
		p.seedISO = filepath.Join(dir, "seed.iso")
		if err := MakeSeedISO(ctx, c.Seed, p.seedISO, c.SeedLabel); err != nil {
			return nil, err
		}
	}

	if !c.NoNetwork {
		if p.net, err = c.userNet(); err != nil {
			return nil, err
		}
		for _, f := range c.Forwards {
			if f.HostAddr == "" {
				f.HostAddr = "127.0.0.1"
			}
			if f.Host == 0 {
				if f.Host, err = freePort(f.HostAddr); err != nil {
					return nil, err
				}
			}
			p.forwards = append(p.forwards, f)
		}
		if len(c.GuestForwards) > 0 {
			if p.relay, err = findRelay(); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// CreateDisk creates a blank disk image of size bytes with qemu-img.
func CreateDisk(ctx context.Context, path, format string, size int64) error {
	out, err := exec.CommandContext(ctx, "qemu-img", "create", "-q", "-f", format, path, strconv.FormatInt(size, 10)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("qemu-img create %s: %w: %s", path, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// MakeSeedISO writes the files under dir into an ISO9660 image (Joliet and
// Rock Ridge) with volume label label, using xorriso: a NoCloud "cidata" or
// a "config-2" config drive.
func MakeSeedISO(ctx context.Context, dir, out, label string) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("seed dir: %w", err)
	}
	cmd := exec.CommandContext(ctx, "xorriso", "-as", "mkisofs", "-quiet", "-o", out, "-V", label, "-J", "-r", dir)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("xorriso seed image %s: %w: %s", out, err, strings.TrimSpace(string(b)))
	}
	return nil
}

// freePort asks the kernel for a free TCP port on addr. Another process
// could take it before QEMU binds it; that is reported when QEMU fails to start.
func freePort(addr string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return 0, fmt.Errorf("pick free port on %s: %w", addr, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// findRelay returns the host command QEMU runs for each guest-forwarded
// connection: socat, else netcat (-q0 style half-close is not needed: the
// guest closes).
func findRelay() ([]string, error) {
	if p, err := exec.LookPath("socat"); err == nil {
		return []string{p, "-"}, nil
	}
	if p, err := exec.LookPath("nc"); err == nil {
		return []string{p}, nil
	}
	return nil, fmt.Errorf("guest forwards need socat or nc on the host (apt-get install socat): %w", exec.ErrNotFound)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// AccelEnv names the environment variable that picks the accelerator when
// Config.Accel is empty.
const AccelEnv = "ROS_QEMU_ACCEL"

// accel returns the accelerator to use: the configured one, else $ROS_QEMU_ACCEL,
// else tcg. KVM is never guessed: on nested hosts /dev/kvm can run a probe
// guest and still fail a real one (here OVMF stops with a KVM emulation
// failure and the Linux decompressor hangs), and a hung boot costs a test its
// whole timeout where TCG is merely slow.
func accel(configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	switch env := os.Getenv(AccelEnv); env {
	case "":
		return "tcg", nil
	case "kvm", "tcg":
		return env, nil
	default:
		return "", fmt.Errorf("$%s=%q: want kvm or tcg", AccelEnv, env)
	}
}
