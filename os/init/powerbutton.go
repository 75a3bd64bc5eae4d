package rosinit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// InputDevice is an evdev device that has a power key.
type InputDevice struct {
	Node string // event node, e.g. event0
	Name string // what the driver calls it, e.g. "Power Button"
}

// PowerKeyDevices lists the evdev devices under class (/sys/class/input)
// whose key capabilities include KEY_POWER: the ACPI power button (the
// `button` module; `evdev` gives it an event node), and keyboards with a
// power key. Devices whose capabilities cannot be read are skipped.
func PowerKeyDevices(sys System, class string) ([]InputDevice, error) {
	names, err := readDirNames(sys, class)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var devs []InputDevice
	for _, n := range names {
		if !strings.HasPrefix(n, "event") {
			continue
		}
		caps, err := sys.ReadFile(filepath.Join(class, n, "device/capabilities/key"))
		if err != nil {
			continue
		}
		if ok, err := HasKey(string(caps), KeyPower); err != nil || !ok {
			continue
		}
		name, _ := sys.ReadFile(filepath.Join(class, n, "device/name"))
		devs = append(devs, InputDevice{Node: n, Name: strings.TrimSpace(string(name))})
	}
	return devs, nil
}

// watchPowerButton is a boot phase: it watches every device with a power
// key and, on a press, asks Run for a poweroff through i.power. The ACPI
// power button is what QEMU's system_powerdown and cloud providers' "shut
// down" press.
func (i *Init) watchPowerButton(ctx context.Context) error {
	if i.cfg.InputClass == "" {
		return nil
	}
	devs, err := PowerKeyDevices(i.cfg.Sys, filepath.Join(i.cfg.Root, i.cfg.InputClass))
	if err != nil {
		return err
	}
	if len(devs) == 0 {
		i.say("no power button found (modules button, evdev): ACPI shutdown requests will be ignored")
		return nil
	}
	for _, d := range devs {
		path := filepath.Join(i.cfg.Root, i.cfg.InputDev, d.Node)
		i.say("power button: %s (%s)", path, d.Name)
		go i.watchInput(ctx, path)
	}
	return nil
}

// watchInput reads one evdev device until its power key is pressed.
func (i *Init) watchInput(ctx context.Context, path string) {
	f, err := os.Open(path)
	if err != nil {
		i.say("power button: %v", err)
		return
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	defer f.Close()
	for {
		err := WaitPowerKey(f)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, os.ErrClosed) {
				i.say("power button: read %s: %v", path, err)
			}
			return
		}
		select {
		case i.power <- struct{}{}:
		default: // a press is already pending
		}
	}
}
