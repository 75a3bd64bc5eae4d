package rosinit

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Action is how the machine goes down.
type Action int

// Shutdown actions.
const (
	ActionNone Action = iota
	ActionReboot
	ActionHalt
	ActionPoweroff
)

func (a Action) String() string {
	switch a {
	case ActionReboot:
		return "reboot"
	case ActionHalt:
		return "halt"
	case ActionPoweroff:
		return "poweroff"
	}
	return "none"
}

// RebootCmd is the reboot(2) command carrying out a.
func (a Action) RebootCmd() int {
	switch a {
	case ActionHalt:
		return unix.LINUX_REBOOT_CMD_HALT
	case ActionPoweroff:
		return unix.LINUX_REBOOT_CMD_POWER_OFF
	}
	return unix.LINUX_REBOOT_CMD_RESTART
}

// Signals PID 1 acts on. The convention (the `ros` CLI sends these):
//
//	SIGINT  reboot   (ctrl-alt-del: the kernel sends it once CAD is off)
//	SIGTERM reboot
//	SIGUSR1 halt
//	SIGUSR2 poweroff
//	SIGPWR  poweroff (power button / UPS)
var Signals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPWR}

// ActionFor maps a signal received by PID 1 to what it asks for.
func ActionFor(sig os.Signal) Action {
	switch sig {
	case syscall.SIGINT, syscall.SIGTERM:
		return ActionReboot
	case syscall.SIGUSR1:
		return ActionHalt
	case syscall.SIGUSR2, syscall.SIGPWR:
		return ActionPoweroff
	}
	return ActionNone
}

// SignalFor is the signal that asks PID 1 for a (0 for ActionNone): what
// `ros reboot|halt|poweroff` send.
func SignalFor(a Action) syscall.Signal {
	switch a {
	case ActionReboot:
		return syscall.SIGTERM
	case ActionHalt:
		return syscall.SIGUSR1
	case ActionPoweroff:
		return syscall.SIGUSR2
	}
	return 0
}
