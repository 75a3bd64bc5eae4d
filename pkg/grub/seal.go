package grub

import (
	"errors"
	"fmt"

	"github.com/ros-os/ros/pkg/grubenv"
)

// The seal: ros_sum is the first variable of the block and ros_sum_end the
// last, both holding grubenv.Sum of every other variable except ros_tries
// (GRUB rewrites ros_tries in place at boot, so it cannot be covered).
//
// Go checks the sum. grub.cfg cannot compute a CRC, but it compares ros_sum
// with ros_sum_end: a write torn between the block's sectors leaves the
// first sector's ros_sum beside another write's ros_sum_end (or none), and
// grub.cfg then uses grubenv.bak instead.
const (
	VarSum    = "ros_sum"
	VarSumEnd = "ros_sum_end"
)

// ErrSeal is returned by CheckSeal for a block whose seal is missing or
// does not match its variables.
var ErrSeal = errors.New("grubenv seal does not match")

// unsummed lists the variables Sum leaves out.
var unsummed = []string{VarSum, VarSumEnd, VarTries}

// Sum returns the checksum the seal holds for env.
func Sum(env *grubenv.Env) string { return env.Sum(unsummed...) }

// Seal sets ros_sum (first) and ros_sum_end (last) to Sum(env). Call it
// last, just before writing the block.
func Seal(env *grubenv.Env) error {
	sum := Sum(env)
	if err := env.SetFirst(VarSum, sum); err != nil {
		return fmt.Errorf("seal grubenv: %w", err)
	}
	if err := env.SetLast(VarSumEnd, sum); err != nil {
		return fmt.Errorf("seal grubenv: %w", err)
	}
	return nil
}

// CheckSeal returns nil when env carries a seal that matches its variables,
// else an error wrapping ErrSeal that says what is wrong.
func CheckSeal(env *grubenv.Env) error {
	sum, ok := env.Get(VarSum)
	if !ok {
		return fmt.Errorf("%w: no %s", ErrSeal, VarSum)
	}
	end, _ := env.Get(VarSumEnd)
	if end != sum {
		return fmt.Errorf("%w: %s=%q but %s=%q (torn write?)", ErrSeal, VarSum, sum, VarSumEnd, end)
	}
	if got := Sum(env); got != sum {
		return fmt.Errorf("%w: variables sum to %s, %s says %s", ErrSeal, got, VarSum, sum)
	}
	return nil
}

// SealsAgree is grub.cfg's test of a block: ros_sum equals ros_sum_end
// (both missing counts, as on disks written before the seal existed).
func SealsAgree(env *grubenv.Env) bool {
	sum, _ := env.Get(VarSum)
	end, _ := env.Get(VarSumEnd)
	return sum == end
}
