package rosinit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Input event constants from linux/input-event-codes.h.
const (
	EvKey    = 0x01 // EV_KEY
	KeyPower = 116  // KEY_POWER
)

// InputEventSize is the size of the kernel's struct input_event on this
// architecture: a struct timeval, then __u16 type, __u16 code, __s32 value
// (24 bytes on amd64 and arm64).
const InputEventSize = int(unsafe.Sizeof(unix.Timeval{})) + 8

// InputEvent is the part of a struct input_event PID 1 looks at.
type InputEvent struct {
	Type  uint16
	Code  uint16
	Value int32 // for EV_KEY: 1 press, 0 release, 2 autorepeat
}

// ParseInputEvent decodes one struct input_event (InputEventSize bytes, in
// the machine's byte order).
func ParseInputEvent(b []byte) (InputEvent, error) {
	if len(b) != InputEventSize {
		return InputEvent{}, fmt.Errorf("input event of %d bytes, want %d", len(b), InputEventSize)
	}
	t := b[InputEventSize-8:]
	return InputEvent{
		Type:  binary.NativeEndian.Uint16(t[0:]),
		Code:  binary.NativeEndian.Uint16(t[2:]),
		Value: int32(binary.NativeEndian.Uint32(t[4:])), //nolint:gosec // G115: the bits of the kernel's __s32, read as one
	}, nil
}

// WaitPowerKey reads input events from r (an evdev device,
// /dev/input/eventN) until one is a press of the power key, and returns nil
// then. Otherwise it returns the read error: io.EOF when r ends between
// events, io.ErrUnexpectedEOF when it ends inside one.
func WaitPowerKey(r io.Reader) error {
	buf := make([]byte, InputEventSize)
	for {
		// evdev returns whole events: a read of one event's size gets one.
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		ev, err := ParseInputEvent(buf)
		if err != nil {
			return err
		}
		if ev.Type == EvKey && ev.Code == KeyPower && ev.Value == 1 {
			return nil
		}
	}
}

// errBadBitmap is returned by HasKey for text that is not a sysfs bitmap.
var errBadBitmap = errors.New("not a sysfs capability bitmap")

// HasKey reports whether caps, the text of an input device's
// /sys/class/input/eventN/device/capabilities/key, has the bit of key code
// set. The kernel prints the bitmap as hex words of the machine's long,
// most significant first, separated by spaces ("10000000000000 0" is an
// ACPI power button on a 64-bit kernel).
func HasKey(caps string, code int) (bool, error) {
	words := strings.Fields(caps)
	if len(words) == 0 {
		return false, fmt.Errorf("%w: empty", errBadBitmap)
	}
	idx := code / bits.UintSize // word index counted from the last one
	var word uint64
	for i, w := range words {
		v, err := strconv.ParseUint(w, 16, bits.UintSize)
		if err != nil {
			return false, fmt.Errorf("%w: %q", errBadBitmap, caps)
		}
		if len(words)-1-i == idx {
			word = v
		}
	}
	return word&(1<<(uint(code)%bits.UintSize)) != 0, nil
}
