package hostcmd

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ros-os/ros/pkg/qemu"
)

func newRunCmd() *cobra.Command {
	var (
		cfg      qemu.Config
		uefi     bool
		diskSize string
		ports    []string
	)
	cmd := &cobra.Command{
		Use:   "run [flags] IMAGE",
		Short: "Boot an image in QEMU with its serial console on this terminal",
		Long: `Run boots an ISO, a disk image (raw or qcow2) or a PXE kernel (NAME-kernel,
with NAME-initrd.img and NAME-cmdline beside it) in QEMU, with the serial
console on this terminal, as 'linuxkit run' does. Ctrl-A X quits.

QEMU emulates the CPU in software (TCG) unless --accel kvm or
ROS_QEMU_ACCEL=kvm asks for KVM.`,
		Example: `  ros run out/ros.iso
  ros run --uefi --disk 4G --port 2222:22 out/ros.iso
  ros run --cidata ./seed out/ros.qcow2
  ros run out/ros-kernel`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := runConfig(&cfg, args[0], uefi, diskSize, ports); err != nil {
				return err
			}
			return qemu.Run(cmd.Context(), cfg, os.Stdin, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&uefi, "uefi", false, "boot with UEFI firmware (OVMF) instead of BIOS")
	f.StringVar(&diskSize, "disk", "", "attach a blank disk of this size (e.g. 4G) for ros install or ROS_STATE")
	f.StringVar(&cfg.Seed, "cidata", "", "folder with user-data/meta-data, attached as a NoCloud (cidata) disk")
	f.StringSliceVar(&ports, "port", nil, "forward a host TCP port to the guest, HOST:GUEST (repeatable)")
	f.IntVarP(&cfg.MemoryMiB, "mem", "m", 1024, "memory in MiB")
	f.IntVar(&cfg.CPUs, "cpus", 1, "virtual CPUs")
	f.BoolVar(&cfg.Snapshot, "snapshot", false, "discard disk writes when QEMU exits")
	f.StringVar(&cfg.Accel, "accel", "", "kvm or tcg (default $ROS_QEMU_ACCEL, else tcg)")
	return cmd
}

func runConfig(cfg *qemu.Config, image string, uefi bool, diskSize string, ports []string) error {
	cfg.Name = "ros"
	if uefi {
		cfg.Firmware = qemu.UEFI
	}
	if strings.HasSuffix(image, "-kernel") {
		base := strings.TrimSuffix(image, "-kernel")
		cfg.Kernel, cfg.Initrd = image, base+"-initrd.img"
		b, err := os.ReadFile(base + "-cmdline")
		if err != nil {
			return fmt.Errorf("run %s: %w", image, err)
		}
		cfg.Cmdline = strings.TrimSpace(string(b))
	} else {
		cfg.Image = image
	}
	if diskSize != "" {
		n, err := parseSize(diskSize)
		if err != nil {
			return fmt.Errorf("--disk %q: %w", diskSize, err)
		}
		cfg.Disks = append(cfg.Disks, qemu.Disk{Size: n})
	}
	for _, p := range ports {
		h, g, ok := strings.Cut(p, ":")
		host, err1 := strconv.Atoi(h)
		guest, err2 := strconv.Atoi(g)
		if !ok || err1 != nil || err2 != nil {
			return fmt.Errorf("--port %q: expected HOST:GUEST port numbers", p)
		}
		cfg.Forwards = append(cfg.Forwards, qemu.Forward{Host: host, Guest: guest})
	}
	return nil
}

// parseSize reads 512M, 4G, 1T or a plain byte count.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	case "T":
		mult = 1 << 40
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("expected a size such as 512M or 4G")
	}
	return n * mult, nil
}
