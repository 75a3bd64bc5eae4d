package rosd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/cloudconfig"
	"github.com/ros-os/ros/pkg/cmdline"
	"github.com/ros-os/ros/upgrade/install"
)

func (b *backend) OSInstall(ctx context.Context, req api.InstallRequest, progress func(api.Progress)) error {
	if err := b.d.install(ctx, req, func(msg string) { progress(api.Progress{Phase: "install", Message: msg}) }); err != nil {
		return err
	}
	if !req.NoReboot {
		b.d.rebootSoon("installed to " + req.Device)
	}
	return nil
}

// install runs `ros install`: from live media only, with the cloud-config
// checked first so a typo is found before the disk is written.
func (d *daemon) install(ctx context.Context, req api.InstallRequest, progress func(string)) error {
	if d.machine != nil && d.machine.Booted != "" {
		return kindError{api.ErrConflict, errors.New("install runs from the live ISO; this machine booted from its disk (slot " + d.machine.Booted + ")")}
	}
	if !d.installing.TryLock() {
		return kindError{api.ErrConflict, errors.New("another install is in progress")}
	}
	defer d.installing.Unlock()
	var userData []byte
	if c := strings.TrimSpace(req.CloudConfig); c != "" {
		var err error
		userData, err = fetchUserData(ctx, c)
		if err != nil {
			return kindError{api.ErrInvalid, err}
		}
		if _, _, err := cloudconfig.Parse("install cloud-config", userData); err != nil {
			return kindError{api.ErrInvalid, fmt.Errorf("cloud-config: %w", err)}
		}
	}
	o := install.Options{Device: req.Device, CloudConfig: userData, Force: req.Force, Progress: progress}
	if req.Append != "" {
		o.Cmdline = strings.TrimSpace(readTrimmed(d.opts.Root+"/boot/cmdline", "") + " " + req.Append)
	}
	err := install.Install(ctx, o)
	for _, refusal := range []error{install.ErrInUse, install.ErrNotBlank, install.ErrTooSmall, install.ErrPayloadTooLarge, install.ErrSectorSize, install.ErrNoDevice, install.ErrArch} {
		if errors.Is(err, refusal) {
			return kindError{api.ErrConflict, err}
		}
	}
	if err == nil {
		d.record(ctx, "install", req.Device, "installed")
	}
	return err
}

// fetchUserData returns c, or what the URL c names.
func fetchUserData(ctx context.Context, c string) ([]byte, error) {
	if !strings.HasPrefix(c, "http://") && !strings.HasPrefix(c, "https://") {
		return []byte(c), nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c, nil)
	if err != nil {
		return nil, fmt.Errorf("cloud-config %s: %w", c, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cloud-config %s: %w", c, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("cloud-config %s: %s", c, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 16<<20))
}

// autoInstall carries out ros.install.device=DEVICE|auto from the kernel
// command line (the ISO's install entry, automated installs): install
// with ros.install.cloud_config=URL if given, then power off, so the next
// boot (from the disk, the medium removed) is the installed system.
func (d *daemon) autoInstall(ctx context.Context) {
	c := cmdline.Parse(d.kernelCmdline())
	dev, ok := c.Get("ros.install.device")
	if !ok || dev == "" {
		return
	}
	cfgURL, _ := c.Get("ros.install.cloud_config")
	d.console("ros: installing to %s (ros.install.device)", dev)
	err := d.install(ctx, api.InstallRequest{Device: dev, CloudConfig: cfgURL}, func(msg string) { d.console("ros: install: %s", msg) })
	if err != nil {
		d.console("ros: install to %s failed: %v", dev, err)
		return
	}
	d.console("ros: install done; powering off") // the progress named the disk chosen
	time.AfterFunc(rebootDelay, func() {
		if err := d.power(true); err != nil {
			d.console("ros: power off: %v", err)
		}
	})
}
