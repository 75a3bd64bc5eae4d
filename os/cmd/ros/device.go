//go:build rosdevice

package main

import "github.com/ros-os/ros/os/cli"

var extraCommands []cli.Extension
