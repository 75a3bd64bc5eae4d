package rosd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/cloudconfig"
	"github.com/ros-os/ros/pkg/cmdline"
	"github.com/ros-os/ros/pkg/datasource"
	"github.com/ros-os/ros/pkg/state"
)

// Keys of the state store's key-value table.
const (
	// kvLocal is the config saved by `ros config set` and `merge`.
	kvLocal = "config.local"
	// kvDatasource is the last valid user-data a datasource gave, and
	// kvDatasourceName where it came from: used when the datasource is
	// absent or gives a config that fails validation.
	kvDatasource     = "config.datasource"
	kvDatasourceName = "config.datasource.source"
	// kvInstance is the instance ID runcmd last ran for.
	kvInstance = "config.instance-id"
)

// Statuses of config history records.
const (
	statusApplied  = "applied"
	statusRejected = "rejected"
)

// configState is the machine's configuration: the layers it is merged
// from, in the documented order (image defaults < saved < datasource <
// kernel command line), and the result applied.
type configState struct {
	d *daemon

	mu       sync.Mutex
	defaults *cloudconfig.Config // Root/etc/ros/config.yml
	local    *cloudconfig.Config // `ros config set|merge`, on ROS_STATE
	ds       *cloudconfig.Config // the datasource's (or its last good one)
	kernel   *cloudconfig.Config // ros.* parameters
	running  *cloudconfig.Config // the merge, applied

	// booted is the user-data the machine booted with, as received (even
	// when rejected): what `ros config validate` checks by default.
	booted       []byte
	bootedSource string
	networkDone  chan struct{} // closed once network datasources were tried
}

func newConfigState(d *daemon) *configState {
	return &configState{d: d, networkDone: make(chan struct{})}
}

// merged lays the layers over each other.
func (c *configState) merged() *cloudconfig.Config {
	out := &cloudconfig.Config{}
	for _, l := range []*cloudconfig.Config{c.defaults, c.local, c.ds, c.kernel} {
		if l != nil {
			out = cloudconfig.Merge(out, l)
		}
	}
	return out
}

// boot reads the local layers and datasources and applies the result. It
// never fails the boot: every problem is reported and the last good
// configuration is used. It returns the datasources still to try once the
// network is up (none when a local one gave user-data).
func (c *configState) boot(ctx context.Context) []datasource.Source {
	d := c.d
	c.mu.Lock()
	defer c.mu.Unlock()
	c.defaults = c.readDefaults()
	c.local = c.readStored(ctx, kvLocal, "saved config")
	line := d.opts.Cmdline
	if line == "" {
		if b, err := os.ReadFile("/proc/cmdline"); err == nil {
			line = strings.TrimSpace(string(b))
		}
	}
	kc, warns, err := cloudconfig.FromCmdline(cmdline.Parse(line).Params())
	c.warn(warns)
	switch {
	case err != nil:
		d.console("ros: cloud-config on the kernel command line rejected: %v", err)
		c.history(ctx, cloudconfig.CmdlineSource, statusRejected, err, warns, nil, nil)
	case kc != nil:
		c.kernel = kc.Config
	}
	// The defaults end with the cloud-config `ros install` saved on
	// ROS_STATE: a NoCloud disk or the command line still wins over it.
	defaults := append(datasource.DefaultNames(), "file:"+filepath.Join(d.opts.DataDir, InstallConfig))
	names := defaults
	if len(d.opts.Datasources) > 0 {
		names = d.opts.Datasources
	} else if c.kernel != nil && len(c.kernel.ROS.CloudInit.Datasources) > 0 {
		names = c.kernel.ROS.CloudInit.Datasources
	} else if c.local != nil && len(c.local.ROS.CloudInit.Datasources) > 0 {
		names = c.local.ROS.CloudInit.Datasources
	}
	srcs, err := datasource.FromNames(names, datasource.Options{Cmdline: line, Finder: d.opts.Finder, Logger: d.log, HTTP: d.opts.HTTP})
	if err != nil {
		d.console("ros: cloud_init.datasources: %v; using the defaults", err)
		srcs, _ = datasource.FromNames(defaults, datasource.Options{Cmdline: line, Finder: d.opts.Finder, Logger: d.log, HTTP: d.opts.HTTP})
	}
	local := datasource.OfKind(srcs, datasource.Local)
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	data, err := datasource.First(lctx, local, d.log)
	cancel()
	found := c.takeData(ctx, data, err)
	if !found {
		c.ds = c.readStored(ctx, kvDatasource, "last datasource config")
	}
	c.apply(ctx, nil, stageBoot, c.instanceID(ctx, data))
	if found {
		return nil
	}
	return datasource.OfKind(srcs, datasource.Network)
}

// network tries the network datasources until one answers or the
// deadline passes, then applies what it found.
func (c *configState) network(ctx context.Context, srcs []datasource.Source, deadline time.Duration) {
	defer close(c.networkDone)
	if len(srcs) == 0 {
		return
	}
	d := c.d
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	data, err := datasource.Poll(ctx, srcs, d.log, 3*time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	prev := c.running
	if c.takeData(ctx, data, err) {
		c.apply(ctx, prev, stageBoot, c.instanceID(ctx, data))
	}
}

// takeData parses what a datasource gave into c.ds. It returns whether the
// datasource gave a valid config.
func (c *configState) takeData(ctx context.Context, data *datasource.Data, err error) bool {
	d := c.d
	if err != nil {
		if !errors.Is(err, datasource.ErrNotFound) && ctx.Err() == nil {
			d.log.Warn("datasources", "err", err)
		}
		return false
	}
	c.booted, c.bootedSource = data.UserData, data.Source
	cfg := &cloudconfig.Config{}
	if len(data.UserData) > 0 {
		parsed, warns, err := cloudconfig.Parse(data.Source, data.UserData, cloudconfig.WithFetch(ctx, fetchURL))
		c.warn(warns)
		if err != nil {
			d.console("ros: cloud-config from %s rejected, keeping the last good config: %v", data.Source, err)
			c.history(ctx, data.Source, statusRejected, err, warns, data.UserData, nil)
			c.ds = c.readStored(ctx, kvDatasource, "last datasource config")
			return false
		}
		cfg = parsed
	}
	// Metadata fills what the user-data leaves out.
	if cfg.Hostname == "" && data.Hostname() != "" {
		cfg.Hostname = data.Hostname()
	}
	cfg.SSHAuthorizedKeys = append(cfg.SSHAuthorizedKeys, data.PublicKeys()...)
	c.ds = cfg
	if len(data.UserData) > 0 {
		c.put(ctx, kvDatasource, data.UserData)
		c.put(ctx, kvDatasourceName, []byte(data.Source))
	}
	d.console("ros: cloud-config from %s", data.Source)
	return true
}

// instanceID names this instance, for runcmd's once-per-instance rule.
func (c *configState) instanceID(ctx context.Context, data *datasource.Data) string {
	if data == nil {
		return ""
	}
	if id := data.InstanceID(); id != "" {
		return id
	}
	sum := sha256.Sum256(data.UserData)
	return "userdata-" + hex.EncodeToString(sum[:8])
}

// firstBootOf says whether instance id has not had its runcmd yet, and
// records that it now has.
func (c *configState) firstBootOf(ctx context.Context, id string) bool {
	if id == "" {
		return false
	}
	prev, err := c.d.store.Get(ctx, kvInstance)
	if err == nil && string(prev) == id {
		return false
	}
	c.put(ctx, kvInstance, []byte(id))
	return true
}

// readDefaults reads the image's default config, Root/etc/ros/config.yml.
func (c *configState) readDefaults() *cloudconfig.Config {
	path := filepath.Join(c.d.opts.Root, "etc", "ros", "config.yml")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	cfg, warns, err := cloudconfig.Parse(path, b)
	c.warn(warns)
	if err != nil {
		c.d.console("ros: image default config rejected: %v", err)
		return nil
	}
	return cfg
}

// readStored parses a config kept in the state store; nil if there is none.
func (c *configState) readStored(ctx context.Context, key, what string) *cloudconfig.Config {
	b, err := c.d.store.Get(ctx, key)
	if err != nil || len(b) == 0 {
		return nil
	}
	name := what
	if key == kvDatasource {
		if src, err := c.d.store.Get(ctx, kvDatasourceName); err == nil {
			name = string(src) + " (last good)"
		}
	}
	cfg, _, err := cloudconfig.Parse(name, b)
	if err != nil {
		c.d.log.Warn("stored config unreadable", "key", key, "err", err)
		return nil
	}
	return cfg
}

func (c *configState) put(ctx context.Context, key string, v []byte) {
	if err := c.d.store.Put(ctx, key, v); err != nil {
		c.d.log.Warn("state store", "key", key, "err", err)
	}
}

func (c *configState) warn(ws cloudconfig.Warnings) {
	for _, w := range ws {
		c.d.log.Warn("cloud-config", "warning", w.String())
		c.d.console("ros: cloud-config warning: %s", w.String())
	}
}

// history records a configuration in the store's history.
func (c *configState) history(ctx context.Context, source, status string, err error, warns cloudconfig.Warnings, userData []byte, cfg *cloudconfig.Config) {
	rec := state.ConfigRecord{Source: source, Status: status, UserData: userData}
	if err != nil {
		rec.Error = err.Error()
	}
	for _, w := range warns {
		rec.Warnings = append(rec.Warnings, w.String())
	}
	if cfg != nil {
		if b, err := cloudconfig.Export(cfg, true); err == nil {
			rec.Config = b
		}
	}
	if _, err := c.d.store.AddConfig(ctx, rec); err != nil {
		c.d.log.Warn("config history", "err", err)
	}
	c.d.record(ctx, "config", source, status)
}

// sources names the layers that set something, for the history.
func (c *configState) sources() string {
	var out []string
	if c.defaults != nil {
		out = append(out, "image")
	}
	if c.local != nil {
		out = append(out, "saved")
	}
	if c.ds != nil {
		name := c.bootedSource
		if name == "" {
			name = "datasource"
		}
		out = append(out, name)
	}
	if c.kernel != nil {
		out = append(out, cloudconfig.CmdlineSource)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, " < ")
}

// toResult turns what an apply did into the API's answer.
func toResult(applied, reboot []string, errs []error) *api.ApplyResult {
	r := &api.ApplyResult{Applied: applied, NeedsReboot: reboot}
	for _, e := range errs {
		r.Warnings = append(r.Warnings, e.Error())
	}
	return r
}

// serviceOverrides lays ros.services.enable/disable and ros.engine over the
// overrides kept in the store (`ros service enable|disable`): the config is
// the newer word at boot.
func (c *configState) serviceOverrides(stored map[string]bool) map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]bool{}
	for k, v := range stored {
		out[k] = v
	}
	if c.running == nil {
		return out
	}
	for _, n := range c.running.ROS.Services.Enable {
		out[n] = true
	}
	for _, n := range c.running.ROS.Services.Disable {
		out[n] = false
	}
	switch c.running.ROS.Engine.Name {
	case engineDocker:
		out[engineDocker] = true
	case engineNone:
		out[engineDocker] = false
	}
	return out
}
