package api_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ros-os/ros/pkg/api"
)

// TestMain lets the test binary act as a client (run as another user) or as
// a socket-activated server, in a child process.
func TestMain(m *testing.M) {
	if sock := os.Getenv("ROS_API_TEST_CLIENT"); sock != "" {
		_, err := api.NewClient(sock).Services(context.Background())
		fmt.Println(err)
		os.Exit(0)
	}
	if path := os.Getenv("ROS_API_TEST_ACTIVATED"); path != "" {
		os.Exit(activatedChild(path))
	}
	os.Exit(m.Run())
}

func activatedChild(path string) int {
	// LISTEN_PID names the process the descriptors are for: us.
	os.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
	l, err := api.Listen(path, "")
	if err != nil {
		fmt.Println("listen:", err)
		return 1
	}
	fmt.Println(l.Addr())
	c, err := l.Accept()
	if err != nil {
		fmt.Println("accept:", err)
		return 1
	}
	fmt.Fprintln(c, "activated")
	c.Close()
	return 0
}

// sockDir returns a short directory for sockets, removed after the test.
func sockDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rosapi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// testGroup writes a group file holding group ros with a gid this process
// may chown to, and returns its path and that gid.
func testGroup(t *testing.T, members string) (string, int) {
	t.Helper()
	gid := 4242
	if os.Getuid() != 0 {
		gid = os.Getgid()
	}
	p := filepath.Join(t.TempDir(), "group")
	if err := os.WriteFile(p, []byte(fmt.Sprintf("root:x:0:\nros:x:%d:%s\n", gid, members)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, gid
}

func TestListenModeAndGroup(t *testing.T) {
	groupFile, gid := testGroup(t, "")
	path := filepath.Join(sockDir(t), "run", "ros.sock") // the parent is created
	l, err := api.ListenConfig{Group: "ros", GroupFile: groupFile}.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o660 || int(st.Gid) != gid || int(st.Uid) != os.Geteuid() {
		t.Errorf("Listen(%s) made %v uid %d gid %d, want a socket 0660 uid %d gid %d", path, fi.Mode(), st.Uid, st.Gid, os.Geteuid(), gid)
	}
	l.Close()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close, Lstat(%s) = %v, want not exist", path, err)
	}
}

func TestListenNoGroup(t *testing.T) {
	path := filepath.Join(sockDir(t), "ros.sock")
	l, err := api.ListenConfig{}.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("Listen(%s, no group) mode = %v, %v; want 0600", path, fi.Mode(), err)
	}
	groupFile, _ := testGroup(t, "")
	_, err = api.ListenConfig{Group: "nosuch", GroupFile: groupFile}.Listen(filepath.Join(sockDir(t), "x.sock"))
	if err == nil || !strings.Contains(err.Error(), "group nosuch not in") {
		t.Errorf("Listen with group nosuch = %v, want an error naming the group", err)
	}
}

func TestListenStaleAndLive(t *testing.T) {
	dir := sockDir(t)
	path := filepath.Join(dir, "ros.sock")
	// A stale socket: bound, never listened to, left behind.
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	syscall.Close(fd)
	l, err := api.ListenConfig{}.Listen(path)
	if err != nil {
		t.Fatalf("Listen over a stale socket = %v, want it replaced", err)
	}
	defer l.Close()
	// A live one: the listener just made.
	if _, err := (api.ListenConfig{}).Listen(path); !errors.Is(err, api.ErrConflict) {
		t.Errorf("Listen over a live socket = %v, want ErrConflict", err)
	}
	// Not a socket.
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := (api.ListenConfig{}).Listen(file); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Listen over a file = %v, want not a socket", err)
	}
}

// TestListenActivated passes a listening socket to a child as systemd does
// (fd 3, LISTEN_FDS=1): Listen must return it rather than make a new one.
func TestListenActivated(t *testing.T) {
	dir := sockDir(t)
	inherited := filepath.Join(dir, "activated.sock")
	l, err := net.Listen("unix", inherited)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f, err := l.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	other := filepath.Join(dir, "other.sock")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ROS_API_TEST_ACTIVATED="+other, "LISTEN_FDS=1")
	cmd.ExtraFiles = []*os.File{f}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Wait() }()
	r := bufio.NewReader(out)
	addr, err := r.ReadString('\n')
	if err != nil || strings.TrimSpace(addr) != inherited {
		rest, _ := io.ReadAll(r)
		t.Fatalf("activated child listens on %q (%v), want %s; output %s", addr, err, inherited, rest)
	}
	c, err := net.Dial("unix", inherited)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, _ := bufio.NewReader(c).ReadString('\n')
	if got != "activated\n" {
		t.Errorf("answer through the inherited socket = %q, want activated", got)
	}
	if _, err := os.Lstat(other); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("activated child made %s too (%v)", other, err)
	}
}

// TestRefusedAsOtherUser connects as nobody (uid 65534), from a child
// process, with the default peer check: the socket refuses it, first by its
// file mode, then, with the mode opened, by SO_PEERCRED.
func TestRefusedAsOtherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	dir := sockDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The test binary may sit in a directory nobody cannot read.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "api.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	groupFile, _ := testGroup(t, "alice")
	path := filepath.Join(dir, "ros.sock")
	l, err := api.ListenConfig{Group: "ros", GroupFile: groupFile}.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := api.NewServer(api.NewHandler(newFake(), nil, api.WithAccess(api.Access{GroupFile: groupFile}.Check)))
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	asNobody := func() string {
		t.Helper()
		cmd := exec.Command(bin, "-test.run=^$")
		cmd.Env = append(os.Environ(), "ROS_API_TEST_CLIENT="+path)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("client as nobody: %v: %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	want := "cannot reach rosd at " + path + ": permission denied (are you root or in group ros?)"
	if got := asNobody(); got != want {
		t.Errorf("client as nobody, socket 0660 = %q, want %q", got, want)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	want = "permission denied: uid 65534 is neither root nor in group ros"
	if got := asNobody(); got != want {
		t.Errorf("client as nobody, socket 0666 = %q, want %q", got, want)
	}
	// And root is let in by the same server.
	if _, err := api.NewClient(path).Services(t.Context()); err != nil {
		t.Errorf("client as root = %v, want allowed", err)
	}
}
