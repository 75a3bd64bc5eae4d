//go:build !rosdevice

package main

import (
	"github.com/ros-os/ros/os/cli"
	"github.com/ros-os/ros/tools/hostcmd"
)

// The host build of ros also carries the build-side commands (build, image,
// cache, run). The device build (-tags rosdevice) leaves them out, so the
// machine's binary does not link the image builder.
var extraCommands = []cli.Extension{hostcmd.Register}
