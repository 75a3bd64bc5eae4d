package qemu

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// common is the start of every non-interactive command line below.
var common = []string{
	"-machine", "q35", "-accel", "tcg", "-m", "1024", "-smp", "1",
	"-nodefaults", "-display", "none",
	"-chardev", "stdio,id=con0,signal=off", "-serial", "chardev:con0",
	"-qmp", "unix:/t/qmp.sock,server=on,wait=off",
}

func TestArgs(t *testing.T) {
	tests := []struct {
		name string
		p    plan
		want []string // after common
	}{
		{
			name: "bios iso",
			p:    plan{cfg: Config{Image: "/img/ros.iso"}},
			want: []string{
				"-drive", "if=none,id=cd0,file=/img/ros.iso,format=raw,media=cdrom,readonly=on",
				"-device", "ide-cd,drive=cd0,bus=ide.0,bootindex=0",
				"-netdev", "user,id=net0", "-device", "virtio-net-pci,netdev=net0",
				"-device", "virtio-rng-pci",
			},
		},
		{
			name: "uefi qcow2 disk snapshot no network",
			p: plan{
				cfg:      Config{Image: "/img/ros.qcow2", Firmware: UEFI, Snapshot: true, NoNetwork: true, NoReboot: true},
				ovmfVars: "/t/OVMF_VARS.fd",
			},
			want: []string{
				"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd",
				"-drive", "if=pflash,format=raw,unit=1,file=/t/OVMF_VARS.fd",
				"-drive", "if=none,id=disk0,file=/img/ros.qcow2,format=qcow2",
				"-device", "virtio-blk-pci,drive=disk0,bootindex=0",
				"-device", "virtio-rng-pci", "-snapshot", "-no-reboot",
			},
		},
		{
			name: "raw disk with comma in path",
			p:    plan{cfg: Config{Image: "/img/a,b.img", NoNetwork: true}},
			want: []string{
				"-drive", "if=none,id=disk0,file=/img/a,,b.img,format=raw",
				"-device", "virtio-blk-pci,drive=disk0,bootindex=0",
				"-device", "virtio-rng-pci",
			},
		},
		{
			name: "kernel initrd cmdline",
			p: plan{cfg: Config{Kernel: "/k/vmlinuz", Initrd: "/k/initrd", Cmdline: "quiet",
				KernelArgs: []string{"ros.live", "panic=5"}, NoNetwork: true}},
			want: []string{
				"-kernel", "/k/vmlinuz", "-initrd", "/k/initrd",
				"-append", "quiet ros.live panic=5 console=ttyS0",
				"-device", "virtio-rng-pci",
			},
		},
		{
			name: "extra disks and cidata",
			p: plan{
				cfg: Config{Image: "/img/ros.iso", NoNetwork: true},
				disks: []Disk{
					{Path: "/t/disk1.qcow2", Format: "qcow2"},
					{Path: "/d/n.img", Format: "raw", Bus: BusNVMe},
					{Path: "/d/s.img", Format: "raw", Bus: BusSATA, Serial: "S1"},
				},
				seedISO: "/t/seed.iso",
			},
			want: []string{
				"-drive", "if=none,id=cd0,file=/img/ros.iso,format=raw,media=cdrom,readonly=on",
				"-device", "ide-cd,drive=cd0,bus=ide.0,bootindex=0",
				"-drive", "if=none,id=disk1,file=/t/disk1.qcow2,format=qcow2",
				"-device", "virtio-blk-pci,drive=disk1",
				"-drive", "if=none,id=disk2,file=/d/n.img,format=raw",
				"-device", "nvme,drive=disk2,serial=disk2",
				"-drive", "if=none,id=disk3,file=/d/s.img,format=raw",
				"-device", "ide-hd,drive=disk3,bus=ide.1,serial=S1",
				"-drive", "if=none,id=seed,file=/t/seed.iso,format=raw,media=cdrom,readonly=on",
				"-device", "ide-cd,drive=seed,bus=ide.2",
				"-device", "virtio-rng-pci",
			},
		},
		{
			name: "port forwards and metadata guestfwd",
			p: plan{
				cfg: Config{Image: "/img/d.img", NIC: "e1000",
					GuestForwards: []GuestForward{{Addr: "169.254.169.254:80", Target: "127.0.0.1:8000"}}},
				forwards: []Forward{{HostAddr: "127.0.0.1", Host: 2222, Guest: 22}, {HostAddr: "0.0.0.0", Host: 8080, Guest: 80}},
				relay:    []string{"/usr/bin/socat", "-"},
				net:      "169.254.0.0/16",
			},
			want: []string{
				"-drive", "if=none,id=disk0,file=/img/d.img,format=raw",
				"-device", "virtio-blk-pci,drive=disk0,bootindex=0",
				"-netdev", "user,id=net0,net=169.254.0.0/16,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=tcp:0.0.0.0:8080-:80," +
					"guestfwd=tcp:169.254.169.254:80-cmd:/usr/bin/socat - TCP:127.0.0.1:8000",
				"-device", "e1000,netdev=net0",
				"-device", "virtio-rng-pci",
			},
		},
		{
			name: "nc relay",
			p: plan{
				cfg:   Config{Image: "/img/d.img", GuestForwards: []GuestForward{{Addr: "10.0.2.100:80", Target: "127.0.0.1:8000"}}},
				relay: []string{"/bin/nc"},
			},
			want: []string{
				"-drive", "if=none,id=disk0,file=/img/d.img,format=raw",
				"-device", "virtio-blk-pci,drive=disk0,bootindex=0",
				"-netdev", "user,id=net0,guestfwd=tcp:10.0.2.100:80-cmd:/bin/nc 127.0.0.1 8000",
				"-device", "virtio-net-pci,netdev=net0",
				"-device", "virtio-rng-pci",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.cfg = tt.p.cfg.withDefaults()
			tt.p.accel = "tcg"
			tt.p.qmpSocket = "/t/qmp.sock"
			got := tt.p.args()
			want := append(slices.Clone(common), tt.want...)
			if !slices.Equal(got, want) {
				t.Errorf("args() =\n%s\nwant\n%s", strings.Join(got, " "), strings.Join(want, " "))
			}
		})
	}
}

func TestArgsInteractiveKVM(t *testing.T) {
	p := plan{cfg: Config{Kernel: "/k", Cmdline: "console=tty0", MemoryMiB: 512, CPUs: 2, NoNetwork: true}.withDefaults(),
		accel: "kvm", interactive: true}
	got := strings.Join(p.args(), " ")
	for _, want := range []string{
		"-accel kvm -cpu host -m 512 -smp 2",
		"-chardev stdio,id=con0,mux=on,signal=off -serial chardev:con0 -mon chardev=con0,mode=readline",
		"-append console=tty0 -device",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("args() = %s, want it to contain %q", got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"iso", Config{Image: "a.iso"}, true},
		{"kernel", Config{Kernel: "k", Initrd: "i"}, true},
		{"nothing", Config{}, false},
		{"image and kernel", Config{Image: "a.img", Kernel: "k"}, false},
		{"kernel args on disk", Config{Image: "a.img", KernelArgs: []string{"x"}}, false},
		{"bad firmware", Config{Image: "a.img", Firmware: "coreboot"}, false},
		{"bad accel", Config{Image: "a.img", Accel: "hvf"}, false},
		{"bad kind", Config{Image: "a.img", Kind: "floppy"}, false},
		{"blank disk without size", Config{Image: "a.img", Disks: []Disk{{}}}, false},
		{"bad bus", Config{Image: "a.img", Disks: []Disk{{Size: 1, Bus: "scsi"}}}, false},
		{"bad format", Config{Image: "a.img", ImageFormat: "vmdk"}, false},
		{"forward without guest port", Config{Image: "a.img", Forwards: []Forward{{Host: 1}}}, false},
		{"forward without network", Config{Image: "a.img", NoNetwork: true, Forwards: []Forward{{Guest: 22}}}, false},
		{"guestfwd bad addr", Config{Image: "a.img", GuestForwards: []GuestForward{{Addr: "x", Target: "127.0.0.1:1"}}}, false},
		{"guestfwd outside net", Config{Image: "a.img", Net: "10.0.2.0/24",
			GuestForwards: []GuestForward{{Addr: "169.254.169.254:80", Target: "127.0.0.1:1"}}}, false},
		{"guestfwd spans nets", Config{Image: "a.img", GuestForwards: []GuestForward{
			{Addr: "169.254.169.254:80", Target: "127.0.0.1:1"}, {Addr: "10.0.2.100:80", Target: "127.0.0.1:1"}}}, false},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidConfig", tt.name, err)
		}
	}
}

func TestUserNet(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, ""},
		{Config{GuestForwards: []GuestForward{{Addr: "10.0.2.100:80", Target: "h:1"}}}, ""},
		{Config{GuestForwards: []GuestForward{{Addr: "169.254.169.254:80", Target: "h:1"}}}, DefaultMetadataNet},
		{Config{Net: "192.168.76.0/24"}, "192.168.76.0/24"},
	}
	for _, tt := range tests {
		got, err := tt.cfg.userNet()
		if err != nil || got != tt.want {
			t.Errorf("userNet(%+v) = %q, %v, want %q", tt.cfg.GuestForwards, got, err, tt.want)
		}
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		cfg  Config
		want Kind
	}{
		{Config{Image: "x.ISO"}, KindISO},
		{Config{Image: "x.img"}, KindDisk},
		{Config{Image: "x.qcow2"}, KindDisk},
		{Config{Kernel: "k"}, KindKernel},
		{Config{Image: "x", Kind: KindISO}, KindISO},
	}
	for _, tt := range tests {
		if got := tt.cfg.kind(); got != tt.want {
			t.Errorf("kind(%+v) = %s, want %s", tt.cfg, got, tt.want)
		}
	}
}
