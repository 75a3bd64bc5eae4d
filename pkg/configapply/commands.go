package configapply

import (
	"context"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/ros-os/ros/pkg/cloudconfig"
)

// basePath is PATH for commands and scripts.
const basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ScriptDir is where the user-data scripts are written before they run
// (on /run: they are run once and need not be kept).
const ScriptDir = "/run/ros/cloud-config/scripts"

func applyBootcmd(ctx context.Context, a *applier) { a.runCommands(ctx, "bootcmd", a.next.Bootcmd) }
func applyRuncmd(ctx context.Context, a *applier)  { a.runCommands(ctx, "runcmd", a.next.Runcmd) }

// runCommands runs each command in turn: a string with /bin/sh -c, a list
// as its arguments. A failing command is an error; the next ones run.
func (a *applier) runCommands(ctx context.Context, key string, cmds []cloudconfig.Command) {
	for i, c := range cmds {
		k := fmt.Sprintf("%s[%d]", key, i)
		name, args := "/bin/sh", []string{"-c", c.Shell}
		if c.Argv != nil {
			name, args = c.Argv[0], c.Argv[1:]
		}
		if err := a.run(ctx, k, name, args); err != nil {
			a.fail(k, err)
		}
	}
}

func (a *applier) run(ctx context.Context, key, name string, args []string) error {
	fmt.Fprintf(a.sys.Output, "ros: %s: %s\n", key, strings.Join(append([]string{name}, args...), " "))
	a.sys.Log.Info("cloud-config run", "key", key, "cmd", name)
	return a.sys.Run(ctx, name, args, a.commandEnv(), a.sys.Output)
}

// commandEnv is the environment of commands and scripts: a PATH and HOME,
// then ros.environment and the proxies.
func (a *applier) commandEnv() []string {
	env := map[string]string{"PATH": basePath, "HOME": "/root"}
	maps.Copy(env, a.env)
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// applyScripts writes each `#!` part of the user-data to ScriptDir and
// runs it, in order.
func applyScripts(ctx context.Context, a *applier) {
	for i, s := range a.next.Scripts {
		key := fmt.Sprintf("scripts[%d]", i)
		name := fmt.Sprintf("%02d", i)
		if base := unsafeName.ReplaceAllString(path.Base(s.Name), "_"); s.Name != "" && base != "." && base != ".." {
			name += "-" + base
		}
		file := path.Join(ScriptDir, name)
		if _, err := writeFile(a.sys.path(file), s.Content, 0o700); err != nil {
			a.fail(key, err)
			continue
		}
		if err := a.run(ctx, key, a.sys.path(file), nil); err != nil {
			a.fail(key, err)
		}
	}
}
