package configapply

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/cloudconfig"
)

// The account files of a fresh machine, as images/init makes them.
const (
	basePasswd = "root:x:0:0:root:/root:/bin/sh\nros:x:1000:1000:ros:/home/ros:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	baseGroup  = "root:x:0:\nwheel:x:10:ros\nshadow:x:42:\ndocker:x:999:ros\nros:x:1000:\nnogroup:x:65534:\n"
	baseShadow = "root:*:19000:0:99999:7:::\nros:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n"
	baseHosts  = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
)

// fake records what Apply does through System.
type fake struct {
	root      string
	cmds      []string   // "name arg …"
	envs      [][]string // the environment of each command
	hostnames []string
	chowns    map[string][2]int // path relative to root -> uid, gid
	fail      map[string]error  // a command whose line starts with the key fails
	hostErr   error
	net       *fakeNet
	out       bytes.Buffer
}

func newFake(t *testing.T) (*fake, *System) {
	t.Helper()
	f := &fake{root: t.TempDir(), chowns: map[string][2]int{}, fail: map[string]error{}, net: newFakeNet()}
	writeT(t, f.root, "/etc/passwd", basePasswd)
	writeT(t, f.root, "/etc/group", baseGroup)
	writeT(t, f.root, "/etc/shadow", baseShadow)
	writeT(t, f.root, "/etc/hosts", baseHosts)
	if err := os.MkdirAll(filepath.Join(f.root, "home/ros"), 0o750); err != nil {
		t.Fatal(err)
	}
	sys := &System{
		Root: f.root,
		SetHostname: func(name string) error {
			f.hostnames = append(f.hostnames, name)
			return f.hostErr
		},
		Run: func(ctx context.Context, name string, args []string, env []string, out io.Writer) error {
			line := strings.Join(append([]string{strings.TrimPrefix(name, f.root)}, args...), " ")
			f.cmds = append(f.cmds, line)
			f.envs = append(f.envs, env)
			_, _ = io.WriteString(out, "ran "+line+"\n")
			for prefix, err := range f.fail {
				if strings.HasPrefix(line, prefix) {
					return err
				}
			}
			return nil
		},
		Chown: func(name string, uid, gid int) error {
			rel, err := filepath.Rel(f.root, name)
			if err != nil || strings.HasPrefix(rel, "..") {
				return errors.New("chown outside the root: " + name)
			}
			f.chowns["/"+rel] = [2]int{uid, gid}
			return nil
		},
		Net:    f.net,
		Output: &f.out,
	}
	return f, sys
}

func writeT(t *testing.T, root, name, content string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readT(t *testing.T, root, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

func modeT(t *testing.T, root, name string) os.FileMode {
	t.Helper()
	st, err := os.Lstat(filepath.Join(root, name))
	if err != nil {
		t.Fatalf("stat %s: %v", name, err)
	}
	return st.Mode()
}

func existsT(root, name string) bool {
	_, err := os.Lstat(filepath.Join(root, name))
	return err == nil
}

// parse reads a #cloud-config document, failing the test on errors or
// warnings.
func parse(t *testing.T, yml string) *cloudconfig.Config {
	t.Helper()
	c, w, err := cloudconfig.Parse("test", []byte("#cloud-config\n"+yml))
	if err != nil || len(w) > 0 {
		t.Fatalf("Parse(%q) = %v, warnings %v", yml, err, w)
	}
	return c
}

func noErrors(t *testing.T, r Report) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("Apply errors: %v", r.Err())
	}
}

// hasError tells whether r has an error of key whose message holds msg.
func hasError(r Report, key, msg string) bool {
	for _, err := range r.Errors {
		var e *Error
		if errors.As(err, &e) && e.Key == key && strings.Contains(e.Error(), msg) {
			return true
		}
	}
	return false
}

// Test keys (valid ed25519 public keys).
const (
	keyA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb3jd+S/d0bV4g7cK4cn+UhFwT0SqVeQFyOzxB/1Qq3 a@x"
	keyB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb3jd+S/d0bV4g7cK4cn+UhFwT0SqVeQFyOzxB/1Qq3 b@x"
)

func readlink(root, name string) (string, error) { return os.Readlink(filepath.Join(root, name)) }

func scriptT(name string) cloudconfig.Script {
	return cloudconfig.Script{Source: "user-data", Name: name, Content: []byte("#!/bin/sh\necho hi\n")}
}

func fileMode(m uint32) os.FileMode { return os.FileMode(m) }
