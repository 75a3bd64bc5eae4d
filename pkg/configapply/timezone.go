package configapply

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
)

// ZoneinfoDir is where time zone files are looked for.
const ZoneinfoDir = "/usr/share/zoneinfo"

// applyTimezone points /etc/localtime at the zone's file and writes
// /etc/timezone. UTC needs no file: without /etc/localtime, libc uses UTC.
func applyTimezone(ctx context.Context, a *applier) {
	zone := a.next.Timezone
	localtime := a.sys.path("/etc/localtime")
	if zone == "" { // removed at Live
		if _, err := removeFile(localtime); err != nil {
			a.fail("timezone", err)
		}
		if _, err := removeFile(a.sys.path("/etc/timezone")); err != nil {
			a.fail("timezone", err)
		}
		return
	}
	target := path.Join(ZoneinfoDir, zone)
	if _, err := os.Stat(a.sys.path(target)); errors.Is(err, fs.ErrNotExist) {
		switch zone {
		case "UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal", "GMT", "Etc/GMT":
			target = ""
		default:
			a.fail("timezone", fmt.Errorf("unknown time zone %q: %s is not on this machine", zone, target))
			return
		}
	} else if err != nil {
		a.fail("timezone", fmt.Errorf("time zone %q: %w", zone, err))
		return
	}
	if _, err := removeFile(localtime); err != nil {
		a.fail("timezone", err)
		return
	}
	if target != "" {
		if err := os.MkdirAll(path.Dir(localtime), 0o755); err != nil {
			a.fail("timezone", fmt.Errorf("make /etc: %w", err))
			return
		}
		if err := os.Symlink(target, localtime); err != nil {
			a.fail("timezone", fmt.Errorf("link /etc/localtime: %w", err))
			return
		}
	}
	if _, err := writeFile(a.sys.path("/etc/timezone"), []byte(zone+"\n"), 0o644); err != nil {
		a.fail("timezone", err)
	}
}
