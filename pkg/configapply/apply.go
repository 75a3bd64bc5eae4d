package configapply

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/ros-os/ros/pkg/cloudconfig"
)

// step applies some keys of a config. It runs when one of its keys is
// active (set in next at boot, changed at Live), or always at the stages
// in always.
type step struct {
	name   string
	keys   []string
	always []Stage
	run    func(ctx context.Context, a *applier)
}

// steps are in the order cloud-init's modules run, ros keys where they
// belong: kernel first, then bootcmd, host identity and network, files
// and mounts, accounts and keys, services' files, deferred files, and
// last the once-per-instance commands.
var steps = []step{
	{name: "ros.modules", keys: []string{"ros.modules"}, run: applyModules},
	{name: "ros.sysctl", keys: []string{"ros.sysctl"}, run: applySysctl},
	{name: "bootcmd", always: []Stage{Boot, FirstBoot}, run: applyBootcmd},
	{name: "hostname", keys: []string{"hostname", "fqdn", "manage_etc_hosts"}, run: applyHostname},
	{name: "ros.network", keys: []string{"ros.network"}, run: applyNetwork},
	{name: "resolv_conf", keys: []string{"ros.network", "resolv_conf", "manage_resolv_conf"}, run: applyResolv},
	{name: "ros.environment", keys: []string{"ros.environment", "ros.network"}, run: applyEnvironment},
	{name: "timezone", keys: []string{"timezone"}, run: applyTimezone},
	{name: "write_files", keys: []string{"write_files"}, run: func(ctx context.Context, a *applier) { applyWriteFiles(a, false) }},
	{name: "mounts", keys: []string{"mounts"}, run: applyMounts},
	{name: "users", keys: []string{"users"}, run: applyUsers},
	{name: "ssh_authorized_keys", keys: []string{"ssh_authorized_keys", "users"}, run: applyAuthorizedKeys},
	{name: "ros.ssh", keys: []string{"ros.ssh", "ssh_pwauth"}, run: applySSH},
	{name: "ntp", keys: []string{"ntp"}, run: applyNTP},
	{name: "write_files (deferred)", keys: []string{"write_files"}, run: func(ctx context.Context, a *applier) { applyWriteFiles(a, true) }},
	{name: "runcmd", always: []Stage{FirstBoot}, run: applyRuncmd},
	{name: "scripts", always: []Stage{FirstBoot}, run: applyScripts},
}

// applier is one run of Apply.
type applier struct {
	sys        *System
	prev, next *cloudconfig.Config
	stage      Stage
	active     map[string]bool // keys to apply
	report     *Report
	failed     map[string]bool // keys of steps that had an error
	env        map[string]string
}

// Apply applies next to the machine sys describes. prev is the config
// applied before (nil if none): at Live only the keys that differ from it
// are applied, at Boot every key next sets and every key that changed.
// Apply never stops at an error: each is in Report.Errors, naming its key,
// and the other keys are applied. Keys left to the caller (ros.services,
// ros.engine, ros.upgrade, ros.cloud_init, ros.console) are not touched.
func Apply(ctx context.Context, sys *System, prev, next *cloudconfig.Config, stage Stage) Report {
	rep := Report{}
	s, err := sys.withDefaults()
	if err != nil {
		rep.Errors = append(rep.Errors, err)
		return rep
	}
	if prev == nil {
		prev = &cloudconfig.Config{}
	}
	if next == nil {
		next = &cloudconfig.Config{}
	}
	a := &applier{sys: s, prev: prev, next: next, stage: stage, report: &rep,
		active: map[string]bool{}, failed: map[string]bool{}}
	changed := cloudconfig.Diff(prev, next)
	for _, k := range changed {
		a.active[k] = true
	}
	if stage != Live {
		for _, k := range cloudconfig.Diff(nil, next) {
			a.active[k] = true
		}
	}
	a.env = environment(next)
	rep.Environment = maps.Clone(a.env)

	applied := map[string]bool{}
	for _, st := range steps {
		keys := a.keysOf(st)
		if len(keys) == 0 {
			continue
		}
		if ctx.Err() != nil {
			a.fail(st.name, ctx.Err())
			continue
		}
		before := len(rep.Errors)
		s.Log.Debug("cloud-config step", "step", st.name, "keys", keys, "stage", stage)
		st.run(ctx, a)
		for _, k := range keys {
			applied[k] = true
			if len(rep.Errors) > before {
				a.failed[k] = true
			}
		}
	}
	for k := range applied {
		if !a.failed[k] {
			rep.Applied = append(rep.Applied, k)
		}
	}
	if stage == Live {
		a.liveOnly(changed)
	}
	sort.Strings(rep.Applied)
	rep.NeedsReboot = sortedUnique(rep.NeedsReboot)
	rep.RestartServices = sortedUnique(rep.RestartServices)
	return rep
}

// keysOf returns the keys step st applies in this run; none means it does
// not run.
func (a *applier) keysOf(st step) []string {
	if len(st.always) > 0 {
		if slices.Contains(st.always, a.stage) && a.active[st.name] {
			return []string{st.name}
		}
		return nil
	}
	var out []string
	for _, k := range st.keys {
		if a.active[k] {
			out = append(out, k)
		}
	}
	return out
}

// liveOnly reports the changed keys a live application leaves for later.
func (a *applier) liveOnly(changed []string) {
	for _, k := range changed {
		switch k {
		case "bootcmd":
			a.report.NeedsReboot = append(a.report.NeedsReboot, k)
		case "runcmd", "scripts":
			a.warnf("%s: not run now: it runs on the first boot of an instance", k)
		}
	}
}

func (a *applier) fail(key string, err error) {
	a.report.Errors = append(a.report.Errors, &Error{Key: key, Err: err})
	a.sys.Log.Warn("cloud-config key failed", "key", key, "err", err)
}

func (a *applier) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	a.report.Warnings = append(a.report.Warnings, msg)
	a.sys.Log.Warn("cloud-config: " + msg)
}

func (a *applier) restart(service string) {
	a.report.RestartServices = append(a.report.RestartServices, service)
}

func (a *applier) needsReboot(key string) {
	a.report.NeedsReboot = append(a.report.NeedsReboot, key)
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	sort.Strings(s)
	return slices.Compact(s)
}
