// Command ros-initrd is stage 1 of ros init, /init of the initramfs.
package main

import "github.com/ros-os/ros/os/initrd"

func main() { initrd.Main() }
