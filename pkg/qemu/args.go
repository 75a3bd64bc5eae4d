package qemu

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// plan is a Config with every default applied and every side effect done
// (files created, ports chosen): what args turns into a command line.
type plan struct {
	cfg         Config // defaults applied
	accel       string
	ovmfVars    string // per-VM copy (or the caller's file with PersistVars)
	disks       []Disk // Path and Format resolved
	seedISO     string
	forwards    []Forward // Host ports chosen
	relay       []string  // host command for guest forwards, target appended
	net         string    // user network CIDR or ""
	qmpSocket   string
	interactive bool // console and monitor muxed on stdio (Ctrl-A X)
}

// qemuEscape doubles commas, QEMU's escape inside option values.
func qemuEscape(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// cmdline returns the kernel command line of a kernel boot.
func (c *Config) cmdline() string {
	parts := []string{}
	if c.Cmdline != "" {
		parts = append(parts, c.Cmdline)
	}
	parts = append(parts, c.KernelArgs...)
	line := strings.Join(parts, " ")
	hasConsole := false
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "console=") {
			hasConsole = true
		}
	}
	if !hasConsole {
		line = strings.TrimSpace(line + " console=ttyS0")
	}
	return line
}

// args builds QEMU's arguments (without the binary name).
func (p *plan) args() []string {
	c := &p.cfg
	a := []string{}
	add := func(s ...string) { a = append(a, s...) }
	if c.Name != "" {
		add("-name", qemuEscape(c.Name))
	}
	add("-machine", c.Machine, "-accel", p.accel)
	switch {
	case c.CPU != "":
		add("-cpu", c.CPU)
	case p.accel == "kvm":
		add("-cpu", "host")
	}
	add("-m", strconv.Itoa(c.MemoryMiB), "-smp", strconv.Itoa(c.CPUs))
	add("-nodefaults", "-display", "none")
	if p.interactive {
		add("-chardev", "stdio,id=con0,mux=on,signal=off",
			"-serial", "chardev:con0", "-mon", "chardev=con0,mode=readline")
	} else {
		add("-chardev", "stdio,id=con0,signal=off", "-serial", "chardev:con0")
	}
	if p.qmpSocket != "" {
		add("-qmp", "unix:"+qemuEscape(p.qmpSocket)+",server=on,wait=off")
	}
	if c.Firmware == UEFI {
		add("-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+qemuEscape(c.OVMFCode),
			"-drive", "if=pflash,format=raw,unit=1,file="+qemuEscape(p.ovmfVars))
	}

	sata := 0 // next AHCI port
	cdrom := func(id, file string, boot bool) {
		add("-drive", fmt.Sprintf("if=none,id=%s,file=%s,format=raw,media=cdrom,readonly=on", id, qemuEscape(file)))
		dev := fmt.Sprintf("ide-cd,drive=%s,bus=ide.%d", id, sata)
		if boot {
			dev += ",bootindex=0"
		}
		add("-device", dev)
		sata++
	}
	disk := func(id string, d Disk, boot bool) {
		add("-drive", fmt.Sprintf("if=none,id=%s,file=%s,format=%s", id, qemuEscape(d.Path), d.Format))
		var dev string
		switch d.Bus {
		case BusNVMe:
			serial := d.Serial
			if serial == "" {
				serial = id // nvme requires one
			}
			dev = fmt.Sprintf("nvme,drive=%s,serial=%s", id, qemuEscape(serial))
		case BusSATA:
			dev = fmt.Sprintf("ide-hd,drive=%s,bus=ide.%d", id, sata)
			sata++
		default:
			dev = "virtio-blk-pci,drive=" + id
		}
		if d.Serial != "" && d.Bus != BusNVMe {
			dev += ",serial=" + qemuEscape(d.Serial)
		}
		if boot {
			dev += ",bootindex=0"
		}
		add("-device", dev)
	}

	switch c.kind() {
	case KindISO:
		cdrom("cd0", c.Image, true)
	case KindDisk:
		disk("disk0", Disk{Path: c.Image, Format: diskFormat(c.Image, c.ImageFormat)}, true)
	case KindKernel:
		add("-kernel", c.Kernel)
		if c.Initrd != "" {
			add("-initrd", c.Initrd)
		}
		add("-append", c.cmdline())
	}
	for i, d := range p.disks {
		disk(fmt.Sprintf("disk%d", i+1), d, false)
	}
	if p.seedISO != "" {
		cdrom("seed", p.seedISO, false)
	}

	if !c.NoNetwork {
		nd := "user,id=net0"
		if p.net != "" {
			nd += ",net=" + p.net
		}
		for _, f := range p.forwards {
			nd += fmt.Sprintf(",hostfwd=tcp:%s:%d-:%d", f.HostAddr, f.Host, f.Guest)
		}
		for _, g := range c.GuestForwards {
			cmd := strings.Join(append(append([]string{}, p.relay...), relayTarget(p.relay, g.Target)...), " ")
			nd += ",guestfwd=tcp:" + g.Addr + "-cmd:" + qemuEscape(cmd)
		}
		add("-netdev", nd, "-device", c.NIC+",netdev=net0")
	}
	add("-device", "virtio-rng-pci")
	if c.Snapshot {
		add("-snapshot")
	}
	if c.NoReboot {
		add("-no-reboot")
	}
	return append(a, c.ExtraArgs...)
}

// relayTarget spells the target for the relay command: socat wants
// TCP:host:port, nc wants host port.
func relayTarget(relay []string, target string) []string {
	if len(relay) > 0 && strings.HasSuffix(relay[0], "socat") {
		return []string{"TCP:" + target}
	}
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return []string{target}
	}
	return []string{host, port}
}
