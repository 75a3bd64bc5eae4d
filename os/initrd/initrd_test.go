package initrd

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		line    string
		want    Config
		wantErr bool
	}{
		{"console=ttyS0", Config{Init: "/sbin/init", RootWait: 10 * time.Second, THP: "never"}, false},
		{"ros.slot=B ros.debug", Config{Slot: "B", Debug: true, Init: "/sbin/init", RootWait: 10 * time.Second, THP: "never"}, false},
		{"ros.live ros.rootwait=30 init=/bin/sh", Config{Live: true, Init: "/bin/sh", RootWait: 30 * time.Second, THP: "never"}, false},
		{"init=relative", Config{Init: "/sbin/init", RootWait: 10 * time.Second, THP: "never"}, false},
		{"transparent_hugepage=madvise", Config{Init: "/sbin/init", RootWait: 10 * time.Second}, false},
		{"ros.transparent_hugepage=x", Config{Init: "/sbin/init", RootWait: 10 * time.Second, THP: "never"}, false},
		{"ros.slot=C", Config{}, true},
		{"ros.rootwait=soon", Config{}, true},
	}
	for _, tt := range tests {
		got, err := ParseConfig(tt.line)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseConfig(%q) error = %v, want error %v", tt.line, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && got != tt.want {
			t.Errorf("ParseConfig(%q) = %+v, want %+v", tt.line, got, tt.want)
		}
	}
}

const (
	nosuidNodev = "0x6"
	rdonly      = "0x1"
)

// tail is what every successful boot ends with after the state mount.
var tail = []string{
	"mount  /dev /newroot/dev 0x2000",
	"mount  /proc /newroot/proc 0x2000",
	"mount  /sys /newroot/sys 0x2000",
	"switch-root /newroot /sbin/init",
}

var head = []string{
	"mount devtmpfs devtmpfs /dev 0x2 mode=0755",
	"mount proc proc /proc 0xe",
	"mount sysfs sysfs /sys 0xe",
	"insert squashfs.ko",
	"insert overlay.ko",
}

var tmpfsMounts = []string{
	"mount tmpfs tmpfs /newroot/run " + nosuidNodev + " mode=0755",
	"mount tmpfs tmpfs /newroot/tmp " + nosuidNodev + " mode=1777",
	"mount tmpfs tmpfs /newroot/run/ros/overlay " + nosuidNodev + " mode=0755",
	"mount overlay overlay /newroot/etc 0x0 lowerdir=/newroot/etc,upperdir=/newroot/run/ros/overlay/etc/upper,workdir=/newroot/run/ros/overlay/etc/work",
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestBootEmbedded(t *testing.T) {
	m := newMachine(t, "console=ttyS0 ros.slot=A") // the embedded root wins over ros.slot
	m.file(EmbeddedFS, string(singlePayload()))
	s, console, err := m.run()
	if err != nil {
		t.Fatalf("Run() = %v\n%s", err, console)
	}
	want := concat(head,
		[]string{"loop /rootfs.squashfs /dev/loop0", "mount squashfs /dev/loop0 /newroot " + rdonly},
		tmpfsMounts,
		[]string{"mount tmpfs tmpfs /newroot/var " + nosuidNodev + " mode=0755"},
		tail)
	if !reflect.DeepEqual(m.sys.calls, want) {
		t.Errorf("Run() calls =\n%s\nwant\n%s", strings.Join(m.sys.calls, "\n"), strings.Join(want, "\n"))
	}
	if s.Root.Kind != "embedded" || s.Var != "tmpfs" {
		t.Errorf("Run() root %+v, /var %q, want embedded and tmpfs", s.Root, s.Var)
	}
	for _, line := range []string{"ros-initrd: phase kernel-fs done in", "ros-initrd: phase switch-root done in", "/var is a tmpfs", "2 modules loaded"} {
		if !strings.Contains(console, line) {
			t.Errorf("console lacks %q:\n%s", line, console)
		}
	}
}

func TestBootSlotWithState(t *testing.T) {
	m := newMachine(t, "ros.slot=B")
	m.file("/etc/modprobe.d/ros.conf", "blacklist nothing\nsoftdep overlay pre: squashfs\n")
	m.blockDev("vda", "disk", "", 1<<30, nil)
	m.blockDev("vda3", "partition", "ROS_A", 256<<20, singlePayload())
	m.blockDev("vda4", "partition", "ROS_B", 256<<20, splitPayload())
	m.blockDev("vda5", "partition", "ROS_STATE", 512<<20, ext4Image("ROS_STATE", 4096, 16384)) // 64 MiB fs in 512 MiB
	s, console, err := m.run()
	if err != nil {
		t.Fatalf("Run() = %v\n%s", err, console)
	}
	want := concat(head,
		[]string{"loop /dev/vda4@8192 /dev/loop0", "mount squashfs /dev/loop0 /newroot " + rdonly},
		tmpfsMounts,
		[]string{"mount ext4 /dev/vda5 /newroot/var " + nosuidNodev, "resize /newroot/var 131072"},
		tail)
	if !reflect.DeepEqual(m.sys.calls, want) {
		t.Errorf("Run() calls =\n%s\nwant\n%s", strings.Join(m.sys.calls, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(console, "root: slot squashfs from /dev/vda4 (zstd at byte 8192), read-only") {
		t.Errorf("Run() console lacks the root's layout:\n%s", console)
	}
	if s.Var != "/dev/vda5" || !strings.Contains(console, "grew /dev/vda5 from 64 MiB to 512 MiB") {
		t.Errorf("Run(): /var %q, want /dev/vda5 grown; console:\n%s", s.Var, console)
	}
}

func TestFindState(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(m *machine)
		wantOK bool
		want   string
	}{
		{"partition name", func(m *machine) { m.blockDev("sda2", "partition", "RANCHER_STATE", 1<<20, nil) }, true, "/dev/sda2"},
		{"ROS_STATE preferred", func(m *machine) {
			m.blockDev("sda2", "partition", "RANCHER_STATE", 1<<20, nil)
			m.blockDev("sdb1", "partition", "ROS_STATE", 1<<20, nil)
		}, true, "/dev/sdb1"},
		{"ext4 label on a whole disk", func(m *machine) {
			m.blockDev("vdb", "disk", "", 1<<20, ext4Image("RANCHER_STATE", 1024, 1024))
		}, true, "/dev/vdb"},
		{"other label", func(m *machine) { m.blockDev("vdb", "disk", "", 1<<20, ext4Image("DATA", 1024, 1024)) }, false, ""},
	}
	for _, tt := range tests {
		m := newMachine(t, "")
		tt.setup(m)
		d, _, ok, err := findState(&State{Sys: m.sys})
		if err != nil || ok != tt.wantOK || d.Dev != tt.want {
			t.Errorf("findState(%s) = %q, %v, %v, want %q, %v", tt.name, d.Dev, ok, err, tt.want, tt.wantOK)
		}
	}
}

func TestBootLive(t *testing.T) {
	m := newMachine(t, "ros.live")
	m.blockDev("sr0", "disk", "", 700<<20, isoImage())     // a CD without ros
	m.blockDev("sda", "disk", "", 8<<30, isoImage())       // the hybrid ISO on a USB stick
	m.blockDev("sda1", "partition", "", 8<<30, isoImage()) // its partition: not reached
	m.blockDev("vda", "disk", "", 8<<30, make([]byte, 64)) // blank disk: not a candidate
	m.sys.onMount = func(source, target, fstype string) {
		if source == "/dev/sda" && target == MediaDir {
			m.file(MediaDir+LiveFS, string(splitPayload()))
		}
	}
	s, console, err := m.run()
	if err != nil {
		t.Fatalf("Run() = %v\n%s", err, console)
	}
	want := concat(head,
		[]string{
			"mount iso9660 /dev/sr0 /run/ros/media " + rdonly, "unmount /run/ros/media",
			"mount iso9660 /dev/sda /run/ros/media " + rdonly,
			"loop /run/ros/media/ros/rootfs.squashfs@8192 /dev/loop0", "mount squashfs /dev/loop0 /newroot " + rdonly,
		},
		tmpfsMounts,
		[]string{"mount tmpfs tmpfs /newroot/var " + nosuidNodev + " mode=0755", "mount  /run/ros/media /newroot/run/ros/media 0x2000"},
		tail)
	if !reflect.DeepEqual(m.sys.calls, want) {
		t.Errorf("Run() calls =\n%s\nwant\n%s", strings.Join(m.sys.calls, "\n"), strings.Join(want, "\n"))
	}
	if s.Root.Media != "/dev/sda" {
		t.Errorf("Run() medium = %q, want /dev/sda", s.Root.Media)
	}
}

func TestFindRootWaitsForSlowDevice(t *testing.T) {
	m := newMachine(t, "")
	rescans := 0
	s := &State{Sys: m.sys, Console: &strings.Builder{}, Config: Config{Slot: "A", RootWait: 5 * time.Second},
		Sleep: func(context.Context, time.Duration) error { return nil },
		Rescan: func(context.Context) {
			if rescans++; rescans == 3 {
				m.blockDev("sdb2", "partition", "ROS_A", 1<<20, nil) // the USB disk shows up
			}
		}}
	if err := findRoot(context.Background(), s); err != nil || s.Root.Source != "/dev/sdb2" {
		t.Fatalf("findRoot() = %v, root %+v, want /dev/sdb2", err, s.Root)
	}
	if rescans != 3 {
		t.Errorf("findRoot() rescanned %d times, want 3", rescans)
	}

	sleeps := 0
	s = &State{Sys: m.sys, Console: &strings.Builder{}, Config: Config{Slot: "B", RootWait: time.Second},
		Sleep: func(context.Context, time.Duration) error { sleeps++; return nil }}
	err := findRoot(context.Background(), s)
	if !errors.Is(err, ErrNoRoot) || sleeps != 4 {
		t.Errorf("findRoot(absent slot) = %v after %d sleeps, want ErrNoRoot after 4", err, sleeps)
	}
	s = &State{Sys: m.sys, Console: &strings.Builder{}}
	if err := findRoot(context.Background(), s); !errors.Is(err, ErrNoRoot) {
		t.Errorf("findRoot(no hint) = %v, want ErrNoRoot", err)
	}
}

func TestBootFailures(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(m *machine)
		wantPhase string
		wantErr   string
	}{
		{"no root", func(m *machine) {}, "find-root", "no root filesystem found"},
		{"bad command line", func(m *machine) { m.file("/proc/cmdline", "ros.slot=Z") }, "cmdline", "want A or B"},
		{"not a payload", func(m *machine) {
			m.file(EmbeddedFS, "x")
		}, "mount-root", "root /rootfs.squashfs: boot part: no squashfs"},
		{"squashfs mount fails", func(m *machine) {
			m.file(EmbeddedFS, string(singlePayload()))
			m.sys.failMount[NewRoot] = syscall.EINVAL
		}, "mount-root", "invalid argument"},
		{"root lacks /var", func(m *machine) {
			m.file(EmbeddedFS, string(singlePayload()))
			os.Remove(m.sys.Path(NewRoot + "/var"))
		}, "mount-root", "lacks the mount points /var"},
		{"no init", func(m *machine) {
			m.file(EmbeddedFS, string(singlePayload()))
			os.Remove(m.sys.Path(NewRoot + "/usr/bin/ros"))
		}, "switch-root", "init /sbin/init"},
	}
	for _, tt := range tests {
		m := newMachine(t, "")
		tt.setup(m)
		_, _, err := m.run()
		var pe *PhaseError
		if !errors.As(err, &pe) || pe.Phase != tt.wantPhase || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Run(%s) = %v, want phase %s failing with %q", tt.name, err, tt.wantPhase, tt.wantErr)
		}
	}
}

func TestStateMountFailureFallsBackToTmpfs(t *testing.T) {
	m := newMachine(t, "")
	m.file(EmbeddedFS, string(singlePayload()))
	m.blockDev("vda5", "partition", "ROS_STATE", 1<<20, nil)
	failed := false
	sys := &failOnce{fakeSys: m.sys, target: NewRoot + "/var", err: syscall.EUCLEAN, failed: &failed}
	var console strings.Builder
	s := &State{Sys: sys, Console: &console}
	if err := Run(context.Background(), s, Phases()); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if s.Var != "tmpfs" || !strings.Contains(console.String(), "cannot mount state /dev/vda5") {
		t.Errorf("Run(): /var = %q, want tmpfs after a warning; console:\n%s", s.Var, console.String())
	}
}

type failOnce struct {
	*fakeSys
	target string
	err    error
	failed *bool
}

func (f *failOnce) Mount(source, target, fstype string, flags uintptr, data string) error {
	if target == f.target && !*f.failed {
		*f.failed = true
		return f.err
	}
	return f.fakeSys.Mount(source, target, fstype, flags, data)
}

func TestDebugShell(t *testing.T) {
	for _, withShell := range []bool{true, false} {
		m := newMachine(t, "ros.debug")
		m.file(EmbeddedFS, string(singlePayload()))
		if withShell {
			m.file(NewRoot+"/bin/busybox", "ELF")
			m.symlink("busybox", NewRoot+"/bin/sh")
		}
		_, console, err := m.run()
		if err != nil {
			t.Fatalf("Run(ros.debug) = %v", err)
		}
		ran := strings.Contains(strings.Join(m.sys.calls, "\n"), "shell /newroot\nswitch-root")
		if ran != withShell {
			t.Errorf("Run(ros.debug), /bin/sh present %v: shell ran %v; console:\n%s", withShell, ran, console)
		}
		if !withShell && !strings.Contains(console, "has no /bin/sh") {
			t.Errorf("Run(ros.debug) without a shell: console lacks the explanation:\n%s", console)
		}
	}
}

func TestResolveIn(t *testing.T) {
	m := newMachine(t, "")
	root := m.sys.Path(NewRoot)
	m.dir(NewRoot + "/usr/sbin")
	m.file(NewRoot+"/usr/sbin/init2", "ELF")
	m.symlink("usr/sbin", NewRoot+"/xsbin") // merged-/usr style relative link
	m.symlink("../../../../../etc", NewRoot+"/usr/bin/up")
	m.symlink("loop", NewRoot+"/loop")
	tests := []struct {
		p       string
		want    string
		wantErr bool
	}{
		{"/sbin/init", "/usr/bin/ros", false}, // absolute link stays inside the root
		{"/xsbin/init2", "/usr/sbin/init2", false},
		{"/usr/bin/up", "", true}, // a directory
		{"/loop", "", true},
		{"/nope", "", true},
	}
	for _, tt := range tests {
		got, err := resolveIn(root, tt.p)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != root+tt.want) {
			t.Errorf("resolveIn(%s) = %q, %v, want %q (error %v)", tt.p, got, err, root+tt.want, tt.wantErr)
		}
	}
}

func TestFsType(t *testing.T) {
	m := newMachine(t, "")
	fat := make([]byte, 4096)
	copy(fat[0x52:], "FAT32   ")
	fat[510], fat[511] = 0x55, 0xAA
	cases := map[string][]byte{"iso9660": isoImage(), "ext4": ext4Image("X", 4096, 1<<33), "vfat": fat, "squashfs": []byte("hsqs...."), "": make([]byte, 100)}
	for want, img := range cases {
		m.file("/dev/x", string(img))
		if got := fsType(m.sys, "/dev/x"); got != want {
			t.Errorf("fsType(%s image) = %q, want %q", want, got, want)
		}
	}
	m.file("/dev/x", string(ext4Image("BIG", 4096, 1<<33)))
	if sb, ok := readExt4(m.sys, "/dev/x"); !ok || sb.Blocks != 1<<33 || sb.Label != "BIG" || sb.BlockSize != 4096 {
		t.Errorf("readExt4(64-bit) = %+v, %v, want 2^33 blocks of 4096 labelled BIG", sb, ok)
	}
}
