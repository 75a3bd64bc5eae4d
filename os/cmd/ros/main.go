// Command ros is the single binary of the ros operating system: the CLI, the
// daemon (`ros daemon`) and, on the machine, PID 1 (when invoked as init).
package main

import (
	"os"

	"github.com/ros-os/ros/os/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, extraCommands...))
}
