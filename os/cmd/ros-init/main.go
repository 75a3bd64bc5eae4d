// Command ros-init is PID 1 of a running ros machine (/sbin/init, execed by
// stage 1). It is a program of its own, not a name of the ros binary: PID 1
// lives as long as the machine, and a Go program carries the package
// initialisation of everything it links. Linking only os/init (no
// containerd client, gRPC, cobra or dqlite) keeps its heap small.
package main

import (
	"context"
	"fmt"
	"os"

	rosinit "github.com/ros-os/ros/os/init"
)

func main() {
	// Main returns only when it cannot run (not PID 1) or reboot(2) failed.
	err := rosinit.Main(context.Background(), os.Args)
	fmt.Fprintf(os.Stderr, "%s%v\n", rosinit.Prefix, err)
	os.Exit(1)
}
