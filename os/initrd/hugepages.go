package initrd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// thpSwitch turns transparent huge pages (THP) on and off.
const thpSwitch = "/sys/kernel/mm/transparent_hugepage/enabled"

// THPMode is what stage 1 sets transparent huge pages to unless the
// kernel command line chooses (transparent_hugepage=always|madvise|never).
// Stage 1 does it, before PID 1 allocates its first heap.
//
// Debian's kernel defaults to "always". With THP on (always or madvise),
// khugepaged raises vm.min_free_kbytes so that 2 MiB blocks stay free:
// 44 MiB on a 1 GiB machine, held back from everything; and Go heaps get
// 2 MiB pages whether or not their programs touch them. Measured on
// yml/ros.yml at 1 GiB: memory in use after boot (MemTotal - MemAvailable)
// 269 MiB with THP always, 87 MiB with never; anonymous memory 62 MiB and
// 35 MiB. A machine that wants huge pages for a database says
// transparent_hugepage=madvise.
const THPMode = "never"

// setHugepages applies Config.THP. A kernel built without THP has no
// switch: nothing to do.
func setHugepages(ctx context.Context, s *State) error {
	if s.Config.THP == "" {
		return nil
	}
	p := s.Sys.Path(thpSwitch)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.WriteFile(p, []byte(s.Config.THP), 0); err != nil {
		return fmt.Errorf("transparent huge pages %s: %w", s.Config.THP, err)
	}
	return nil
}
