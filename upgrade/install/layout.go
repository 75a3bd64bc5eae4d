package install

import (
	"fmt"

	"github.com/ros-os/ros/pkg/disk"
)

// Layout returns the ros partition layout for a disk of size bytes: the
// standard partitions of disk.NewLayout with ROS_EFI efiSize and slots of
// slotSize, and ROS_STATE taking the rest (whole MiB, leaving 1 MiB at the
// end for the backup GPT). It fails with ErrTooSmall when ROS_STATE would
// be smaller than minState.
func Layout(size, efiSize, slotSize, minState int64) (*disk.Layout, error) {
	min, err := disk.NewLayout(efiSize, slotSize, minState)
	if err != nil {
		return nil, err
	}
	if size < min.Size {
		return nil, fmt.Errorf("%w: %s, ros needs at least %s (ROS_EFI %s, two slots of %s, ROS_STATE %s)",
			ErrTooSmall, human(size), human(min.Size), human(efiSize), human(slotSize), human(minState))
	}
	st, err := min.State()
	if err != nil {
		return nil, err
	}
	state := (size - disk.MiB - st.Start) / disk.MiB * disk.MiB
	l, err := disk.NewLayout(efiSize, slotSize, state)
	if err != nil {
		return nil, err
	}
	l.Size = size
	return l, nil
}

// human formats a byte count for messages: "512 MiB", "1.2 GiB".
func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
