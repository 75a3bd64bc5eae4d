package configapply

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ros-os/ros/pkg/cloudconfig"
)

// environment is ros.environment with the ros.network.proxy settings in
// both spellings programs read (HTTP_PROXY and http_proxy …);
// ros.environment wins over a proxy variable of the same name.
func environment(c *cloudconfig.Config) map[string]string {
	env := map[string]string{}
	p := c.ROS.Network.Proxy
	for _, kv := range [][2]string{{"HTTP_PROXY", p.HTTP}, {"HTTPS_PROXY", p.HTTPS}, {"NO_PROXY", p.NoProxy}} {
		if kv[1] != "" {
			env[kv[0]] = kv[1]
			env[strings.ToLower(kv[0])] = kv[1]
		}
	}
	for k, v := range c.ROS.Environment {
		env[k] = string(v)
	}
	return env
}

// applyEnvironment writes /etc/environment (pam_env's KEY=VALUE lines,
// read at login). Services get Report.Environment from the caller.
func applyEnvironment(ctx context.Context, a *applier) {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(a.env)) {
		v := a.env[k]
		if strings.ContainsAny(v, "\n\r") {
			a.fail("ros.environment."+k, fmt.Errorf("a value of several lines cannot go in /etc/environment"))
			continue
		}
		if strings.ContainsAny(v, " \t\"'\\$#") {
			v = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
		}
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	name := a.sys.path("/etc/environment")
	if b.Len() == 0 {
		if _, err := removeFile(name); err != nil {
			a.fail("ros.environment", err)
		}
		return
	}
	if _, err := writeFile(name, []byte(b.String()), 0o644); err != nil {
		a.fail("ros.environment", err)
	}
}
