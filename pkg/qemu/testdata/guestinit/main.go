// Command guestinit is PID 1 of the qemu package's test initramfs. It
// mounts /dev, /proc and /sys, loads the modules in /modules, prints
// GuestReady on the console and then obeys lines typed on the console:
//
//	net ADDR MASK  configure eth0 statically
//	listen PORT    answer every TCP connection on PORT with "hello from guest"
//	get URL        HTTP GET URL, print "body: <body>"
//	poweroff       power off
//	anything else  print "echo: <line>"
//
// A press of the ACPI power button prints "power button" and powers off.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const GuestReady = "ROS-GUEST-READY"

func main() {
	os.Mkdir("/dev", 0o755)
	unix.Mount("devtmpfs", "/dev", "devtmpfs", 0, "")
	if _, err := unix.FcntlInt(0, unix.F_GETFD, 0); err != nil {
		if fd, err := unix.Open("/dev/console", unix.O_RDWR, 0); err == nil {
			for i := 0; i < 3; i++ {
				unix.Dup2(fd, i)
			}
		}
	}
	for _, m := range [][2]string{{"proc", "/proc"}, {"sysfs", "/sys"}} {
		os.Mkdir(m[1], 0o755)
		unix.Mount(m[0], m[1], m[0], 0, "")
	}
	mods, _ := filepath.Glob("/modules/*.ko")
	for _, m := range mods {
		if err := loadModule(m); err != nil {
			fmt.Printf("load %s: %v\n", m, err)
		}
	}
	go watchPowerButton()
	fmt.Println(GuestReady)

	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		cmd, arg, _ := strings.Cut(line, " ")
		switch cmd {
		case "":
		case "poweroff":
			poweroff()
		case "net":
			addr, mask, _ := strings.Cut(arg, " ")
			if err := configure("eth0", addr, mask); err != nil {
				fmt.Printf("net: %v\n", err)
			} else {
				fmt.Printf("net up %s\n", addr)
			}
		case "listen":
			l, err := net.Listen("tcp", ":"+arg)
			if err != nil {
				fmt.Printf("listen: %v\n", err)
				continue
			}
			go serve(l)
			fmt.Printf("listening %s\n", arg)
		case "get":
			go get(arg)
		default:
			fmt.Printf("echo: %s\n", line)
		}
	}
	poweroff()
}

func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.FinitModule(int(f.Fd()), "", 0)
}

func poweroff() {
	fmt.Println("powering off")
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

// watchPowerButton powers off on KEY_POWER from any input device.
func watchPowerButton() {
	time.Sleep(100 * time.Millisecond) // let devtmpfs nodes appear
	devs, _ := filepath.Glob("/dev/input/event*")
	for _, d := range devs {
		go func(d string) {
			f, err := os.Open(d)
			if err != nil {
				return
			}
			ev := make([]byte, 24) // struct input_event on amd64
			for {
				if _, err := io.ReadFull(f, ev); err != nil {
					return
				}
				typ := uint16(ev[16]) | uint16(ev[17])<<8
				code := uint16(ev[18]) | uint16(ev[19])<<8
				if typ == 1 && code == 116 { // EV_KEY, KEY_POWER
					fmt.Println("power button")
					poweroff()
				}
			}
		}(d)
	}
}

func configure(ifname, addr, mask string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	set := func(req uint, ip string) error {
		ifr, err := unix.NewIfreq(ifname)
		if err != nil {
			return err
		}
		if err := ifr.SetInet4Addr(net.ParseIP(ip).To4()); err != nil {
			return err
		}
		return unix.IoctlIfreq(fd, req, ifr)
	}
	if err := set(unix.SIOCSIFADDR, addr); err != nil {
		return fmt.Errorf("set address: %w", err)
	}
	if err := set(unix.SIOCSIFNETMASK, mask); err != nil {
		return fmt.Errorf("set netmask: %w", err)
	}
	ifr, err := unix.NewIfreq(ifname)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set up: %w", err)
	}
	return nil
}

func serve(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		io.WriteString(c, "hello from guest\n")
		c.Close()
	}
}

func get(url string) {
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Printf("get: %v\n", err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Printf("body: %s\n", strings.TrimSpace(string(b)))
}
