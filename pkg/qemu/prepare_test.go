package qemu

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("needs %s", name)
	}
}

func TestMakePlan(t *testing.T) {
	needTool(t, "qemu-img")
	needTool(t, "xorriso")
	dir := t.TempDir()
	img := filepath.Join(dir, "boot.img")
	code := filepath.Join(dir, "CODE.fd")
	vars := filepath.Join(dir, "VARS.fd")
	seed := filepath.Join(dir, "seed")
	for path, data := range map[string]string{img: "x", code: "code", vars: "vars-template",
		filepath.Join(seed, "user-data"): "#cloud-config\nhostname: t\n", filepath.Join(seed, "meta-data"): "instance-id: t\n"} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vmDir := t.TempDir()
	cfg := Config{
		Image: img, Firmware: UEFI, OVMFCode: code, OVMFVars: vars,
		Accel: "tcg", Binary: "true",
		Disks:         []Disk{{Size: 64 << 20}, {Path: img}},
		Seed:          seed,
		Forwards:      []Forward{{Guest: 22}, {Host: 5555, Guest: 80}},
		GuestForwards: []GuestForward{{Addr: "169.254.169.254:80", Target: "127.0.0.1:1"}},
	}
	if _, err := exec.LookPath("socat"); err != nil {
		if _, err := exec.LookPath("nc"); err != nil {
			cfg.GuestForwards = nil
		}
	}
	p, err := makePlan(t.Context(), cfg, vmDir, false)
	if err != nil {
		t.Fatalf("makePlan() = %v", err)
	}

	if b, err := os.ReadFile(p.ovmfVars); err != nil || string(b) != "vars-template" || filepath.Dir(p.ovmfVars) != vmDir {
		t.Errorf("UEFI vars copy %s = %q, %v; want a copy of the template in %s", p.ovmfVars, b, err, vmDir)
	}

	out, err := exec.Command("qemu-img", "info", "--output=json", p.disks[0].Path).Output()
	if err != nil {
		t.Fatalf("qemu-img info %s: %v", p.disks[0].Path, err)
	}
	var info struct {
		Format      string `json:"format"`
		VirtualSize int64  `json:"virtual-size"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	if info.Format != "qcow2" || info.VirtualSize != 64<<20 || p.disks[0].Format != "qcow2" {
		t.Errorf("blank disk = %+v (plan format %s), want qcow2 of %d bytes", info, p.disks[0].Format, 64<<20)
	}
	if p.disks[1].Format != "raw" {
		t.Errorf("disk %s format = %q, want raw", img, p.disks[1].Format)
	}

	out, err = exec.Command("xorriso", "-indev", p.seedISO, "-pvd_info", "-find", "/", "-type", "f").CombinedOutput()
	if err != nil {
		t.Fatalf("xorriso -indev %s: %v: %s", p.seedISO, err, out)
	}
	for _, want := range []string{"Volume Id    : cidata", "'/user-data'", "'/meta-data'"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("seed image lacks %q:\n%s", want, out)
		}
	}

	if f := p.forwards[0]; f.Host == 0 || f.HostAddr != "127.0.0.1" || f.Guest != 22 {
		t.Errorf("forward 0 = %+v, want a chosen port on 127.0.0.1", f)
	}
	if f := p.forwards[1]; f.Host != 5555 {
		t.Errorf("forward 1 = %+v, want host port 5555 kept", f)
	}
	if cfg.GuestForwards != nil && (len(p.relay) == 0 || p.net != DefaultMetadataNet) {
		t.Errorf("plan relay %v net %q, want a relay and %s", p.relay, p.net, DefaultMetadataNet)
	}
}

func TestMakePlanMissingFile(t *testing.T) {
	_, err := makePlan(t.Context(), Config{Image: "/nonexistent.iso", Accel: "tcg", Binary: "true"}, t.TempDir(), false)
	if !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("makePlan(missing image) = %v, want not-exist", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// TestQMP runs qmpCommand against a fake QMP server.
func TestQMP(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "qmp.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var seen []string
		r := bufio.NewReader(c)
		_, _ = c.Write([]byte(`{"QMP": {"version": {}, "capabilities": []}}` + "\n"))
		for _, reply := range []string{
			`{"return": {}}`,
			`{"timestamp": {}, "event": "RESET"}` + "\n" + `{"return": {"status": "running"}}`,
		} {
			line, err := r.ReadString('\n')
			if err != nil {
				break
			}
			seen = append(seen, strings.TrimSpace(line))
			_, _ = c.Write([]byte(reply + "\n"))
		}
		got <- seen
	}()
	ret, err := qmpCommand(t.Context(), sock, "query-status", map[string]any{"x": 1})
	if err != nil || string(ret) != `{"status": "running"}` {
		t.Fatalf("qmpCommand(query-status) = %s, %v, want the return value", ret, err)
	}
	seen := <-got
	want := []string{`{"execute":"qmp_capabilities"}`, `{"arguments":{"x":1},"execute":"query-status"}`}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Errorf("server saw %q, want %q", seen, want)
	}
}

func TestCmdline(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "console=ttyS0"},
		{Config{Cmdline: "quiet"}, "quiet console=ttyS0"},
		{Config{Cmdline: "console=ttyS1,115200"}, "console=ttyS1,115200"},
		{Config{KernelArgs: []string{"a", "console=hvc0"}}, "a console=hvc0"},
	}
	for _, tt := range tests {
		if got := tt.cfg.cmdline(); got != tt.want {
			t.Errorf("cmdline(%q, %q) = %q, want %q", tt.cfg.Cmdline, tt.cfg.KernelArgs, got, tt.want)
		}
	}
}

func TestAccel(t *testing.T) {
	tests := []struct {
		configured, env string
		want            string
		wantErr         bool
	}{
		{"", "", "tcg", false},
		{"", "kvm", "kvm", false},
		{"", "tcg", "tcg", false},
		{"tcg", "kvm", "tcg", false},
		{"kvm", "", "kvm", false},
		{"", "hvf", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.configured+"/"+tt.env, func(t *testing.T) {
			t.Setenv(AccelEnv, tt.env)
			got, err := accel(tt.configured)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("accel(%q) with $%s=%q = %q, %v; want %q (error %v)",
					tt.configured, AccelEnv, tt.env, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
