package qemu

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// kvmProbe caches whether KVM works for the binary probed (one probe per
// process: on a host where KVM hangs the probe costs its whole timeout).
var kvmProbe struct {
	sync.Mutex
	done map[string]bool
}

// kvmUsable reports whether QEMU can run a guest under KVM here. /dev/kvm
// answering its ioctls is not enough (on some nested hosts QEMU hangs or
// aborts setting MSRs), so it boots a 16-byte boot sector that writes one
// byte to the serial port, with the same -cpu host a real VM would use.
func kvmUsable(binary string) bool {
	kvmProbe.Lock()
	defer kvmProbe.Unlock()
	if v, ok := kvmProbe.done[binary]; ok {
		return v
	}
	v := probeKVM(binary)
	if kvmProbe.done == nil {
		kvmProbe.done = map[string]bool{}
	}
	kvmProbe.done[binary] = v
	return v
}

func probeKVM(binary string) bool {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	dir, err := os.MkdirTemp("", "ros-kvm-probe-")
	if err != nil {
		return false
	}
	defer os.RemoveAll(dir)
	// mov dx,0x3f8; mov al,'K'; out dx,al; cli; hlt; jmp $-2 ... 0x55AA.
	sector := make([]byte, 512)
	copy(sector, []byte{0xBA, 0xF8, 0x03, 0xB0, 'K', 0xEE, 0xFA, 0xF4, 0xEB, 0xFD})
	sector[510], sector[511] = 0x55, 0xAA
	img := filepath.Join(dir, "probe.img")
	if err := os.WriteFile(img, sector, 0o644); err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	seen := &signalWriter{want: 'K', seen: make(chan struct{})}
	cmd := exec.CommandContext(ctx, binary, "-accel", "kvm", "-cpu", "host", "-m", "16",
		"-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot",
		"-drive", "file="+qemuEscape(img)+",format=raw,if=ide")
	cmd.Stdout = seen
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return false
	}
	defer func() { _ = cmd.Wait() }()
	defer cancel() // kills QEMU: the guest halts forever
	select {
	case <-seen.seen:
		return true
	case <-ctx.Done():
		return false
	}
}

// signalWriter closes seen the first time byte want is written.
type signalWriter struct {
	mu   sync.Mutex
	want byte
	seen chan struct{}
	done bool
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done && bytes.IndexByte(p, w.want) >= 0 {
		w.done = true
		close(w.seen)
	}
	return len(p), nil
}
