package rosinit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ros-os/ros/pkg/kmod"
)

// event encodes a struct input_event as the kernel writes it.
func event(typ, code uint16, value int32) []byte {
	b := make([]byte, InputEventSize)
	for i := range InputEventSize - 8 {
		b[i] = 0xa5 // a timestamp the parser must skip
	}
	t := b[InputEventSize-8:]
	binary.NativeEndian.PutUint16(t[0:], typ)
	binary.NativeEndian.PutUint16(t[2:], code)
	binary.NativeEndian.PutUint32(t[4:], uint32(value))
	return b
}

func events(evs ...[]byte) []byte { return bytes.Join(evs, nil) }

const (
	evSyn    = 0x00
	keyEnter = 28
)

func TestInputEventSize(t *testing.T) {
	// amd64 and arm64, what ros runs on: struct timeval is 16 bytes.
	if InputEventSize != 24 && InputEventSize != 16 {
		t.Errorf("InputEventSize = %d, want 24 (64-bit) or 16 (32-bit)", InputEventSize)
	}
}

func TestWaitPowerKey(t *testing.T) {
	press := event(EvKey, KeyPower, 1)
	tests := []struct {
		name   string
		stream []byte
		want   error // nil: the power key press was found
		rest   int   // bytes left unread after return
	}{
		{"press then syn", events(press, event(evSyn, 0, 0)), nil, InputEventSize},
		{"acpi button press and release", events(press, event(evSyn, 0, 0), event(EvKey, KeyPower, 0), event(evSyn, 0, 0)), nil, 3 * InputEventSize},
		{"press after other keys", events(event(EvKey, keyEnter, 1), event(EvKey, keyEnter, 0), event(evSyn, 0, 0), press), nil, 0},
		{"release only", events(event(EvKey, KeyPower, 0), event(evSyn, 0, 0)), io.EOF, 0},
		{"autorepeat only", events(event(EvKey, KeyPower, 2)), io.EOF, 0},
		{"power code with another type", events(event(0x04 /* EV_MSC */, KeyPower, 1)), io.EOF, 0},
		{"other key", events(event(EvKey, keyEnter, 1)), io.EOF, 0},
		{"empty", nil, io.EOF, 0},
		{"cut inside an event", press[:InputEventSize-1], io.ErrUnexpectedEOF, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bytes.NewReader(tt.stream)
			if err := WaitPowerKey(r); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("WaitPowerKey(%s) = %v, want %v", tt.name, err, tt.want)
			}
			if r.Len() != tt.rest {
				t.Errorf("WaitPowerKey(%s) left %d bytes, want %d", tt.name, r.Len(), tt.rest)
			}
		})
	}
}

func TestParseInputEvent(t *testing.T) {
	got, err := ParseInputEvent(event(EvKey, KeyPower, -1))
	if want := (InputEvent{Type: EvKey, Code: KeyPower, Value: -1}); err != nil || got != want {
		t.Errorf("ParseInputEvent(key power -1) = %+v, %v, want %+v", got, err, want)
	}
	if _, err := ParseInputEvent(make([]byte, InputEventSize+1)); err == nil {
		t.Errorf("ParseInputEvent(%d bytes) = nil error, want one", InputEventSize+1)
	}
}

func TestHasKey(t *testing.T) {
	if InputEventSize != 24 {
		t.Skip("the bitmaps below are a 64-bit kernel's")
	}
	tests := []struct {
		caps string
		code int
		want bool
		err  bool
	}{
		// /sys/class/input/event*/device/capabilities/key as seen in QEMU.
		{"10000000000000 0\n", KeyPower, true, false},                                                         // ACPI Power Button
		{"4000 0 0\n", KeyPower, false, false},                                                                // ACPI Sleep Button (KEY_SLEEP 142)
		{"402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe\n", KeyPower, true, false},              // AT keyboard
		{"402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe\n", keyEnter, true, false},              // same, Enter
		{"402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe\n", 0 /* KEY_RESERVED */, false, false}, // bit 0 clear
		{"0\n", KeyPower, false, false},
		{"1\n", 0, true, false},
		{"ffffffffffffffff ffffffffffffffff\n", 128, false, false}, // beyond the printed words
		{"", KeyPower, false, true},
		{"zz 0", KeyPower, false, true},
	}
	for _, tt := range tests {
		got, err := HasKey(tt.caps, tt.code)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("HasKey(%q, %d) = %v, %v, want %v (error %v)", tt.caps, tt.code, got, err, tt.want, tt.err)
		}
	}
}

func TestPowerKeyDevices(t *testing.T) {
	if InputEventSize != 24 {
		t.Skip("the bitmaps below are a 64-bit kernel's")
	}
	c := "/sys/class/input"
	f := &fakeSys{files: map[string]string{
		c + "/event0/device/capabilities/key": "10000000000000 0\n",
		c + "/event0/device/name":             "Power Button\n",
		c + "/event1/device/capabilities/key": "4000 0 0\n",
		c + "/event1/device/name":             "Sleep Button\n",
		c + "/event2/device/capabilities/key": "402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe\n",
		c + "/event2/device/name":             "AT Translated Set 2 keyboard\n",
		c + "/event3/device/name":             "no capabilities\n",
		c + "/input0/capabilities/key":        "10000000000000 0\n", // not an event node
		c + "/mice/dev":                       "13:63\n",
	}}
	got, err := PowerKeyDevices(f, c)
	want := []InputDevice{{"event0", "Power Button"}, {"event2", "AT Translated Set 2 keyboard"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("PowerKeyDevices() = %+v, %v, want %+v", got, err, want)
	}
	if got, err := PowerKeyDevices(&fakeSys{}, c); err != nil || len(got) != 0 {
		t.Errorf("PowerKeyDevices(no input class) = %+v, %v, want none", got, err)
	}
}

// TestLoadBase loads the base modules a kernel ships and skips the others.
func TestLoadBase(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "modules.dep"), []byte("kernel/drivers/input/evdev.ko:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, err := kmod.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var inserted []string
	l := kmod.NewLoader(ix, func(path, _ string) error {
		inserted = append(inserted, filepath.Base(path))
		return nil
	}, nil)
	if err := loadBase(t.Context(), l, []string{"button", "evdev"}); err != nil {
		t.Errorf("loadBase(button, evdev) = %v, want nil (button absent: skipped)", err)
	}
	if want := []string{"evdev.ko"}; !reflect.DeepEqual(inserted, want) {
		t.Errorf("inserted %q, want %q", inserted, want)
	}
	l = kmod.NewLoader(ix, func(string, string) error { return errors.New("refused") }, nil)
	if err := loadBase(t.Context(), l, []string{"evdev"}); err == nil {
		t.Error("loadBase(evdev) with a failing insert = nil, want the error")
	}
}
