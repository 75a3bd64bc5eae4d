package rosd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Socket activation (systemd's protocol) for services: the annotation
//
//	org.ros.listen: "tcp:0.0.0.0:8080, unix:/run/app.sock"
//
// makes rosd open those listening sockets once and keep them across the
// service's restarts. containerd cannot hand a task inherited file
// descriptors, so the service's command runs under ActivateName (the
// static ros binary, bound into the container): it fetches the sockets
// from rosd over a Unix socket (SCM_RIGHTS), puts them at fd 3 onwards,
// sets LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES, and execs the command.
// go-systemd's activation.Listeners() then finds them.
const (
	annListen = "org.ros.listen"
	// ActivateName is the name ros answers to as the activation wrapper.
	ActivateName = "ros-activate"
	// activatePath and activateSocket are where the wrapper and the socket
	// it asks are mounted in the container (a tmpfs /dev takes the mount
	// points on a read-only root).
	activatePath   = "/dev/" + ActivateName
	activateSocket = "/dev/" + ActivateName + ".sock"
	// activateEnv tells the wrapper where to ask.
	activateEnv = "ROS_ACTIVATE_SOCKET"
)

// activator holds a service's listening sockets and hands them out.
type activator struct {
	files []*os.File
	names []string
	path  string // the Unix socket the wrapper asks
	srv   *net.UnixListener
	// served is closed when serve returns: the files are closed only
	// after, so their descriptors are never handed out once reused.
	served    chan struct{}
	closeOnce sync.Once
}

// parseListen reads an org.ros.listen annotation.
func parseListen(v string) ([][2]string, error) {
	var out [][2]string
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		network, addr, ok := strings.Cut(item, ":")
		switch {
		case !ok || addr == "":
			return nil, fmt.Errorf("%s: %q: want tcp:ADDR, udp:ADDR or unix:PATH", annListen, item)
		case network == "tcp" || network == "tcp4" || network == "tcp6" || network == "udp" || network == "udp4" || network == "udp6" || network == "unix":
		default:
			return nil, fmt.Errorf("%s: %q: unknown network %q (tcp, udp, unix)", annListen, item, network)
		}
		out = append(out, [2]string{network, addr})
	}
	return out, nil
}

// newActivator opens the sockets of listen and serves them on path.
func newActivator(ctx context.Context, listen [][2]string, path string) (*activator, error) {
	a := &activator{path: path}
	for _, l := range listen {
		f, err := listenFile(l[0], l[1])
		if err != nil {
			a.close()
			return nil, err
		}
		a.files = append(a.files, f)
		a.names = append(a.names, strings.NewReplacer(":", "_", "/", "_").Replace(l[0]+"-"+l[1]))
	}
	if err := privateDir(filepath.Dir(path)); err != nil {
		a.close()
		return nil, fmt.Errorf("activation socket: %w", err)
	}
	_ = os.Remove(path)
	srv, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		a.close()
		return nil, fmt.Errorf("activation socket: %w", err)
	}
	//nolint:gosec // G302: privateDir is the access control; the service's user is any
	if err := os.Chmod(path, 0o666); err != nil {
		srv.Close()
		a.close()
		return nil, fmt.Errorf("activation socket: %w", err)
	}
	a.srv = srv
	fds := make([]int, len(a.files))
	for i, f := range a.files {
		fds[i] = int(f.Fd()) //nolint:gosec // G115: a descriptor fits an int
	}
	a.served = make(chan struct{})
	go func() {
		<-ctx.Done()
		a.close()
	}()
	go a.serve(fds)
	return a, nil
}

// listenFile opens one listening socket and returns it as a file.
func listenFile(network, addr string) (*os.File, error) {
	switch network {
	case "udp", "udp4", "udp6":
		c, err := net.ListenPacket(network, addr)
		if err != nil {
			return nil, fmt.Errorf("%s %s:%s: %w", annListen, network, addr, err)
		}
		defer c.Close()
		return c.(interface{ File() (*os.File, error) }).File()
	case "unix":
		_ = os.Remove(addr)
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("%s %s:%s: %w", annListen, network, addr, err)
	}
	defer l.Close()
	if ul, ok := l.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	return l.(interface{ File() (*os.File, error) }).File()
}

func (a *activator) serve(fds []int) {
	defer close(a.served)
	for {
		c, err := a.srv.AcceptUnix()
		if err != nil {
			return
		}
		_, _, _ = c.WriteMsgUnix([]byte(strings.Join(a.names, ":")), unix.UnixRights(fds...), nil)
		c.Close()
	}
}

func (a *activator) close() {
	a.closeOnce.Do(func() {
		if a.srv != nil {
			a.srv.Close()
		}
		if a.served != nil {
			<-a.served
		}
		for _, f := range a.files {
			f.Close()
		}
	})
}

// withActivation runs the spec's process under the wrapper (binary, the
// static ros) with the activation socket at hand.
func withActivation(binary, socket string) func(*specs.Spec) error {
	return func(s *specs.Spec) error {
		if s.Process == nil || len(s.Process.Args) == 0 {
			return errors.New("no process in spec")
		}
		s.Process.Args = append([]string{activatePath}, s.Process.Args...)
		s.Process.Env = append(s.Process.Env, activateEnv+"="+activateSocket)
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: activatePath, Type: "bind", Source: binary, Options: []string{"bind", "ro"}},
			specs.Mount{Destination: activateSocket, Type: "bind", Source: socket, Options: []string{"bind"}})
		return nil
	}
}

// receiveFiles asks rosd's activation socket for the listening sockets.
func receiveFiles(socket string) ([]*os.File, []string, error) {
	c, err := net.Dial("unix", socket) //nolint:gosec // G704: a local unix socket rosd named, not a URL
	if err != nil {
		return nil, nil, fmt.Errorf("ask %s: %w", socket, err)
	}
	defer c.Close()
	buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(64*4))
	n, oobn, _, _, err := c.(*net.UnixConn).ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", socket, err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", socket, err)
	}
	var files []*os.File
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", socket, err)
		}
		for _, fd := range fds {
			files = append(files, os.NewFile(uintptr(fd), "listener"))
		}
	}
	var names []string
	if n > 0 {
		names = strings.Split(string(buf[:n]), ":")
	}
	return files, names, nil
}

// Activate is ros as ActivateName: fetch the listening sockets, put them
// at fd 3 onwards, set the systemd variables and exec args[1:].
func Activate(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: %s COMMAND [ARG...]", ActivateName)
	}
	socket := os.Getenv(activateEnv)
	if socket == "" {
		return fmt.Errorf("%s is not set", activateEnv)
	}
	files, names, err := receiveFiles(socket)
	if err != nil {
		return err
	}
	// Move them out of the way first, so placing one cannot close another.
	var high []int
	for _, f := range files {
		fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD, 3+len(files))
		if err != nil {
			return fmt.Errorf("dup: %w", err)
		}
		high = append(high, fd)
		f.Close()
	}
	for i, fd := range high {
		if err := unix.Dup3(fd, 3+i, 0); err != nil {
			return fmt.Errorf("dup: %w", err)
		}
		unix.Close(fd)
	}
	path, err := exec.LookPath(args[1])
	if err != nil {
		return err
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, activateEnv+"=") {
			env = append(env, e)
		}
	}
	env = append(env, "LISTEN_FDS="+strconv.Itoa(len(high)), "LISTEN_PID="+strconv.Itoa(os.Getpid()), "LISTEN_FDNAMES="+strings.Join(names, ":"))
	return syscall.Exec(path, args[1:], env)
}
