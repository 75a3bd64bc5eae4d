package sshcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGenerateKey(t *testing.T) {
	kp, err := GenerateKey("ros-test")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(kp.PrivatePEM, []byte("-----BEGIN OPENSSH PRIVATE KEY-----")) {
		t.Errorf("PrivatePEM starts %q, want an OpenSSH private key", kp.PrivatePEM[:20])
	}
	if !strings.HasPrefix(kp.AuthorizedKey, "ssh-ed25519 ") || !strings.HasSuffix(kp.AuthorizedKey, " ros-test") {
		t.Errorf("AuthorizedKey = %q, want ssh-ed25519 ... ros-test", kp.AuthorizedKey)
	}
	// ssh-keygen, an independent reader, derives the same public key.
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("needs ssh-keygen")
	}
	keyFile := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(keyFile, kp.PrivatePEM, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ssh-keygen", "-y", "-f", keyFile).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -y: %v", err)
	}
	got := strings.Fields(string(out))
	want := strings.Fields(kp.AuthorizedKey)
	if len(got) < 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ssh-keygen -y = %q, want %q", out, kp.AuthorizedKey)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startSSHD runs the host's sshd on 127.0.0.1:port accepting key for root.
func startSSHD(t *testing.T, port int, authorized string) {
	t.Helper()
	dir := t.TempDir()
	host, err := GenerateKey("host")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "host_ed25519"), host.PrivatePEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), []byte(authorized+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`HostKey %[1]s/host_ed25519
AuthorizedKeysFile %[1]s/authorized_keys
ListenAddress 127.0.0.1
PidFile none
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.MkdirAll("/run/sshd", 0o755) // privilege separation directory
	var stderr bytes.Buffer
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(dir, "sshd_config"), "-p", fmt.Sprint(port))
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", stderr.String())
		}
	})
}

func needSSHD(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("runs sshd: needs root")
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		t.Skip("needs /usr/sbin/sshd (apt-get install openssh-server)")
	}
}

// TestRunRetries starts the client before sshd: it must retry until sshd
// is up, then run the command with the key.
func TestRunRetries(t *testing.T) {
	needSSHD(t)
	kp, err := GenerateKey("test")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("port %d already answers", port)
	}
	type result struct {
		res Result
		err error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	go func() {
		res, err := Run(ctx, Options{Addr: addr, Key: kp.PrivatePEM, RetryInterval: 200 * time.Millisecond},
			"echo out; echo err >&2; exit 3")
		done <- result{res, err}
	}()
	time.Sleep(time.Second) // the client is now retrying against a closed port
	startSSHD(t, port, kp.AuthorizedKey)
	r := <-done
	if r.err != nil {
		t.Fatalf("Run() = %v", r.err)
	}
	if string(r.res.Stdout) != "out\n" || string(r.res.Stderr) != "err\n" || r.res.ExitCode != 3 {
		t.Errorf("Run() = stdout %q stderr %q exit %d, want out, err, 3", r.res.Stdout, r.res.Stderr, r.res.ExitCode)
	}
}

func TestClient(t *testing.T) {
	needSSHD(t)
	kp, _ := GenerateKey("test")
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	startSSHD(t, port, kp.AuthorizedKey)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, Options{Addr: addr, Signer: kp.Signer, RetryInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("Dial() = %v", err)
	}
	defer c.Close()
	res, err := c.RunInput(ctx, "tr a-z A-Z", strings.NewReader("hello"))
	if err != nil || string(res.Stdout) != "HELLO" || res.ExitCode != 0 {
		t.Errorf("RunInput(tr) = %q, %d, %v, want HELLO, 0", res.Stdout, res.ExitCode, err)
	}

	// A command outliving ctx is cut off.
	sctx, scancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer scancel()
	start := time.Now()
	_, err = c.Run(sctx, "sleep 30")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Errorf("Run(sleep 30) with short ctx = %v after %v, want DeadlineExceeded promptly", err, time.Since(start))
	}

	// A key the server does not know: Dial retries, then gives up with ctx.
	other, _ := GenerateKey("other")
	dctx, dcancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer dcancel()
	_, err = Dial(dctx, Options{Addr: addr, Key: other.PrivatePEM, RetryInterval: 300 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("Dial(unknown key) = %v, want DeadlineExceeded naming the auth failure", err)
	}
}

func TestBadKey(t *testing.T) {
	_, err := Dial(t.Context(), Options{Addr: "127.0.0.1:1", Key: []byte("nope")})
	if err == nil || !strings.Contains(err.Error(), "parse private key") {
		t.Errorf("Dial(bad key) = %v, want a parse error", err)
	}
}
