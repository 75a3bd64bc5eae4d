package rosinit

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestRunPhases(t *testing.T) {
	clock := time.Unix(0, 0)
	now := func() time.Time { return clock }
	var order []string
	step := func(name string, took time.Duration, err error) Phase {
		return Phase{Name: name, Run: func(context.Context) error {
			order = append(order, name)
			clock = clock.Add(took)
			return err
		}}
	}
	var out bytes.Buffer
	res := RunPhases(context.Background(), &out, now, []Phase{
		step("mounts", 12*time.Millisecond, nil),
		step("sysctl", 3*time.Millisecond, errors.New("no such key")),
		step("hostname", 0, nil),
	})
	if want := []string{"mounts", "sysctl", "hostname"}; !reflect.DeepEqual(order, want) {
		t.Errorf("phases ran %v, want %v (a failure must not stop the rest)", order, want)
	}
	wantOut := "ros init: phase mounts done in 12ms\n" +
		"ros init: phase sysctl FAILED after 3ms: no such key\n" +
		"ros init: phase hostname done in 0ms\n"
	if out.String() != wantOut {
		t.Errorf("console =\n%s\nwant\n%s", out.String(), wantOut)
	}
	if len(res) != 3 || res[1].Err == nil || res[0].Took != 12*time.Millisecond {
		t.Errorf("results = %+v", res)
	}
}

func TestPhaseOrder(t *testing.T) {
	i := New(DefaultConfig())
	var boot, down []string
	for _, p := range i.bootPhases() {
		boot = append(boot, p.Name)
	}
	for _, p := range i.shutdownPhases(ActionReboot) {
		down = append(down, p.Name)
	}
	if want := []string{"mounts", "cgroups", "ctrl-alt-del", "sysctl", "hostname", "loopback", "entropy", "modules", "power-button", "dirs", "home"}; !reflect.DeepEqual(boot, want) {
		t.Errorf("boot phases = %v, want %v", boot, want)
	}
	if want := []string{"onshutdown", "services", "containerd", "kill", "sync", "unmount"}; !reflect.DeepEqual(down, want) {
		t.Errorf("shutdown phases = %v, want %v", down, want)
	}
}

func TestSignalMapping(t *testing.T) {
	tests := []struct {
		sig  syscall.Signal
		want Action
		cmd  int
	}{
		{syscall.SIGINT, ActionReboot, unix.LINUX_REBOOT_CMD_RESTART},
		{syscall.SIGTERM, ActionReboot, unix.LINUX_REBOOT_CMD_RESTART},
		{syscall.SIGUSR1, ActionHalt, unix.LINUX_REBOOT_CMD_HALT},
		{syscall.SIGUSR2, ActionPoweroff, unix.LINUX_REBOOT_CMD_POWER_OFF},
		{syscall.SIGPWR, ActionPoweroff, unix.LINUX_REBOOT_CMD_POWER_OFF},
		{syscall.SIGHUP, ActionNone, unix.LINUX_REBOOT_CMD_RESTART},
	}
	for _, tt := range tests {
		got := ActionFor(tt.sig)
		if got != tt.want {
			t.Errorf("ActionFor(%s) = %s, want %s", tt.sig, got, tt.want)
		}
		if got.RebootCmd() != tt.cmd {
			t.Errorf("%s.RebootCmd() = %#x, want %#x", got, got.RebootCmd(), tt.cmd)
		}
	}
	for _, a := range []Action{ActionReboot, ActionHalt, ActionPoweroff} {
		if back := ActionFor(SignalFor(a)); back != a {
			t.Errorf("ActionFor(SignalFor(%s)) = %s, want %s", a, back, a)
		}
	}
	for _, s := range Signals {
		if ActionFor(s) == ActionNone {
			t.Errorf("Signals holds %s, which maps to no action", s)
		}
	}
}

func TestParseSysctl(t *testing.T) {
	in := "# comment\n; other\n\nnet.ipv4.ip_forward = 1\n-kernel.missing=2\nnet/ipv4/conf/eth0.100/forwarding=0\n"
	got, err := ParseSysctl(strings.NewReader(in), "x.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := []Sysctl{
		{Key: "net.ipv4.ip_forward", Value: "1"},
		{Key: "kernel.missing", Value: "2", IgnoreErr: true},
		{Key: "net/ipv4/conf/eth0.100/forwarding", Value: "0"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseSysctl() = %+v, want %+v", got, want)
	}
	if _, err := ParseSysctl(strings.NewReader("novalue\n"), "bad.conf"); err == nil || !strings.Contains(err.Error(), "bad.conf:1") {
		t.Errorf("ParseSysctl(novalue) = %v, want error naming bad.conf:1", err)
	}
	paths := map[string]string{
		"net.ipv4.ip_forward":               "/proc/sys/net/ipv4/ip_forward",
		"net/ipv4/conf/eth0.100/forwarding": "/proc/sys/net/ipv4/conf/eth0.100/forwarding",
	}
	for k, w := range paths {
		if g := SysctlPath(k); g != w {
			t.Errorf("SysctlPath(%q) = %q, want %q", k, g, w)
		}
	}
	if got := sysctlFiles([]string{"b.conf", "README", "a.conf"}); !reflect.DeepEqual(got, []string{"a.conf", "b.conf"}) {
		t.Errorf("sysctlFiles() = %v, want [a.conf b.conf]", got)
	}
}
