// Package qemu boots images in qemu-system-x86_64 for `ros run` and for the
// end-to-end tests: a Config describes the machine, Start boots it with the
// serial console on a pipe (VM), Run boots it with the console on the
// user's terminal.
package qemu

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"strings"
	"time"
)

// Sentinel errors callers may branch on.
var (
	// ErrInvalidConfig wraps every Config validation failure.
	ErrInvalidConfig = errors.New("invalid qemu config")
	// ErrExited is returned by WaitFor when QEMU exits before the pattern shows.
	ErrExited = errors.New("qemu exited")
	// ErrPowerdownIgnored is returned by Shutdown when the guest did not power
	// off on the ACPI power button within the grace period and QEMU was made
	// to quit.
	ErrPowerdownIgnored = errors.New("guest ignored ACPI powerdown")
)

// Kind is what the boot image is.
type Kind string

// Boot image kinds.
const (
	KindISO    Kind = "iso"    // Image is an ISO9660 attached as a CD-ROM
	KindDisk   Kind = "disk"   // Image is a raw or qcow2 disk
	KindKernel Kind = "kernel" // Kernel (+ Initrd, Cmdline) booted directly
)

// Firmware selects the machine firmware.
type Firmware string

// Firmwares.
const (
	BIOS Firmware = "bios" // SeaBIOS, QEMU's default
	UEFI Firmware = "uefi" // OVMF
)

// Debian's OVMF build (package ovmf).
const (
	DefaultOVMFCode = "/usr/share/OVMF/OVMF_CODE.fd"
	DefaultOVMFVars = "/usr/share/OVMF/OVMF_VARS.fd"
)

// Defaults applied to zero Config fields.
const (
	DefaultMemoryMiB     = 1024
	DefaultCPUs          = 1
	DefaultMachine       = "q35"
	DefaultNIC           = "virtio-net-pci"
	DefaultBinary        = "qemu-system-x86_64"
	DefaultShutdownGrace = 30 * time.Second
	// DefaultMetadataNet is the user network used when a guest forward names
	// an address outside QEMU's default 10.0.2.0/24 (QEMU only forwards
	// addresses inside the user network): 169.254.169.254 lies in it. QEMU
	// places its host at 169.254.2.2 (gateway), DNS at 169.254.2.3 and the
	// guest's DHCP address (the default hostfwd target) at 169.254.2.15.
	DefaultMetadataNet = "169.254.0.0/16"
)

// Bus is how a disk is attached.
type Bus string

// Disk buses.
const (
	BusVirtio Bus = "virtio" // virtio-blk-pci (the default)
	BusNVMe   Bus = "nvme"
	BusSATA   Bus = "sata" // AHCI on q35
)

// Disk is an extra disk.
type Disk struct {
	// Path is an existing image. Empty with Size set: a blank qcow2 disk of
	// Size bytes is created in the VM's temporary directory.
	Path string
	// Format is raw or qcow2; empty means qcow2 for *.qcow2, else raw.
	Format string
	// Size of a blank disk in bytes (Path empty).
	Size int64
	// Bus defaults to BusVirtio.
	Bus Bus
	// Serial, if set, is the disk's serial number (/dev/disk/by-id).
	Serial string
}

// Forward forwards a host TCP port to a guest TCP port (user networking
// hostfwd).
type Forward struct {
	// HostAddr is the address to listen on; default 127.0.0.1.
	HostAddr string
	// Host port; 0 picks a free port, reported by VM.HostPort.
	Host int
	// Guest port.
	Guest int
}

// GuestForward makes connections from the guest to Addr (an IP:port inside
// the user network) reach Target, a host TCP address such as
// "127.0.0.1:8080". Each guest connection runs `socat` (or `nc`) on the host,
// so any number of connections work.
type GuestForward struct {
	Addr   string // e.g. "169.254.169.254:80"
	Target string // e.g. "127.0.0.1:43210"
}

// Config describes a VM. The zero value of every field but the boot image is
// usable.
type Config struct {
	// Name shows in the process list (-name).
	Name string

	// Kind of boot image; empty infers it: Kernel set means KindKernel, an
	// Image ending in .iso means KindISO, any other Image KindDisk.
	Kind Kind
	// Image is the ISO or disk to boot.
	Image string
	// ImageFormat is raw or qcow2 for a disk Image; empty infers from the name.
	ImageFormat string
	// Kernel, Initrd and Cmdline are for a direct kernel boot. When Cmdline
	// names no console, console=ttyS0 is added.
	Kernel  string
	Initrd  string
	Cmdline string
	// KernelArgs are appended to Cmdline (kernel boots only).
	KernelArgs []string

	// Firmware is BIOS (default) or UEFI.
	Firmware Firmware
	// OVMFCode overrides DefaultOVMFCode.
	OVMFCode string
	// OVMFVars is the variable store template copied per VM
	// (default DefaultOVMFVars). With PersistVars set it is used in place.
	OVMFVars    string
	PersistVars bool

	MemoryMiB int // default DefaultMemoryMiB
	CPUs      int // default DefaultCPUs
	Machine   string
	// Accel is "kvm", "tcg" or empty: $ROS_QEMU_ACCEL if set, else tcg.
	Accel string
	// CPU model (-cpu); empty: host under kvm, QEMU's default under tcg.
	CPU string

	Disks []Disk
	// Seed is a directory (user-data, meta-data, ...) made into an ISO9660
	// image with volume label SeedLabel (default "cidata") and attached as a
	// CD-ROM: a NoCloud datasource. Use label "config-2" for config-drive.
	Seed      string
	SeedLabel string

	// NoNetwork leaves out the NIC.
	NoNetwork bool
	// NIC model; default DefaultNIC.
	NIC string
	// Net is the user network CIDR; empty is QEMU's 10.0.2.0/24, or
	// DefaultMetadataNet when a GuestForward needs it.
	Net           string
	Forwards      []Forward
	GuestForwards []GuestForward

	// Snapshot discards all disk writes when QEMU exits (-snapshot).
	Snapshot bool
	// NoReboot makes a guest reboot, and VM.Reset, exit QEMU (-no-reboot).
	NoReboot bool

	// Console, when set, receives a copy of everything on the serial console.
	Console io.Writer
	// ShutdownGrace is how long Shutdown waits for the guest to power off
	// after the ACPI power button; default DefaultShutdownGrace.
	ShutdownGrace time.Duration

	// Binary overrides DefaultBinary.
	Binary string
	// ExtraArgs are appended to the QEMU command line.
	ExtraArgs []string
	// TempDir is where the per-VM temporary directory is made; default os.TempDir.
	TempDir string
}

// kind returns the boot kind, inferring it when unset.
func (c *Config) kind() Kind {
	switch {
	case c.Kind != "":
		return c.Kind
	case c.Kernel != "":
		return KindKernel
	case strings.EqualFold(filepath.Ext(c.Image), ".iso"):
		return KindISO
	default:
		return KindDisk
	}
}

// diskFormat infers raw or qcow2 from a file name when format is empty.
func diskFormat(path, format string) string {
	if format != "" {
		return format
	}
	if strings.EqualFold(filepath.Ext(path), ".qcow2") {
		return "qcow2"
	}
	return "raw"
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// Validate reports the first problem in c, wrapped in ErrInvalidConfig.
func (c *Config) Validate() error {
	switch c.kind() {
	case KindKernel:
		if c.Kernel == "" {
			return invalid("kind kernel needs Kernel")
		}
		if c.Image != "" {
			return invalid("Image %q and Kernel %q both set", c.Image, c.Kernel)
		}
	case KindISO, KindDisk:
		if c.Image == "" {
			return invalid("no boot image: set Image or Kernel")
		}
		if c.Kernel != "" || c.Initrd != "" || c.Cmdline != "" || len(c.KernelArgs) > 0 {
			return invalid("Kernel, Initrd, Cmdline and KernelArgs need kind kernel, not %s", c.kind())
		}
	default:
		return invalid("unknown kind %q (want iso, disk or kernel)", c.Kind)
	}
	switch c.Firmware {
	case "", BIOS, UEFI:
	default:
		return invalid("unknown firmware %q (want bios or uefi)", c.Firmware)
	}
	switch c.Accel {
	case "", "kvm", "tcg":
	default:
		return invalid("unknown accel %q (want kvm or tcg)", c.Accel)
	}
	if c.MemoryMiB < 0 || c.CPUs < 0 {
		return invalid("negative memory %d or cpus %d", c.MemoryMiB, c.CPUs)
	}
	for _, f := range []string{c.ImageFormat} {
		if f != "" && f != "raw" && f != "qcow2" {
			return invalid("image format %q (want raw or qcow2)", f)
		}
	}
	for i, d := range c.Disks {
		if d.Path == "" && d.Size <= 0 {
			return invalid("disk %d: no Path and no Size", i)
		}
		if d.Format != "" && d.Format != "raw" && d.Format != "qcow2" {
			return invalid("disk %d: format %q (want raw or qcow2)", i, d.Format)
		}
		switch d.Bus {
		case "", BusVirtio, BusNVMe, BusSATA:
		default:
			return invalid("disk %d: bus %q (want virtio, nvme or sata)", i, d.Bus)
		}
	}
	if c.NoNetwork && (len(c.Forwards) > 0 || len(c.GuestForwards) > 0) {
		return invalid("port forwards need the network (NoNetwork set)")
	}
	for i, f := range c.Forwards {
		if f.Guest <= 0 || f.Guest > 65535 || f.Host < 0 || f.Host > 65535 {
			return invalid("forward %d: ports host %d guest %d", i, f.Host, f.Guest)
		}
	}
	if _, err := c.userNet(); err != nil {
		return err
	}
	return nil
}

// userNet returns the user network CIDR ("" for QEMU's default) after
// checking that every guest forward address lies inside it.
func (c *Config) userNet() (string, error) {
	var addrs []netip.Addr
	for i, g := range c.GuestForwards {
		ap, err := netip.ParseAddrPort(g.Addr)
		if err != nil || !ap.Addr().Is4() {
			return "", invalid("guest forward %d: address %q is not IPv4:port", i, g.Addr)
		}
		if g.Target == "" {
			return "", invalid("guest forward %d: no target", i)
		}
		addrs = append(addrs, ap.Addr())
	}
	within := func(cidr string) (bool, error) {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return false, invalid("network %q: %v", cidr, err)
		}
		for _, a := range addrs {
			if !p.Contains(a) {
				return false, nil
			}
		}
		return true, nil
	}
	if c.Net != "" {
		ok, err := within(c.Net)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", invalid("guest forward address outside network %s", c.Net)
		}
		return c.Net, nil
	}
	if ok, _ := within("10.0.2.0/24"); ok {
		return "", nil
	}
	if ok, _ := within(DefaultMetadataNet); ok {
		return DefaultMetadataNet, nil
	}
	return "", invalid("guest forward addresses span networks; set Net")
}
