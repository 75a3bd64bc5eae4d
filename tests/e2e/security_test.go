package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ros-os/ros/pkg/buildfile"
	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/recipe"
	"github.com/ros-os/ros/pkg/sshcheck"
	"github.com/ros-os/ros/tests/fixture"
)

// The secrets of the security test's user-data: none may show in a log,
// the console, the event log or `ros config export` without --private.
const (
	secretPassword = "pw-S3cret-7f3a9c"
	secretURLPass  = "url-S3cret-5b1e"
	pwUser         = "e2e-pw" // has a password; SSH must still refuse it
)

// securityUserData gives pwUser a password, the machine an SSH host key
// (a private key) and an upgrade channel URL with a password, and writes
// one file under /etc.
func securityUserData(hostKey *sshcheck.KeyPair) []byte {
	return []byte(fmt.Sprintf(`#cloud-config
users:
  - default
  - name: %s
    plain_text_passwd: %s
    lock_passwd: false
write_files:
  - path: /etc/ros-e2e/security.txt
    content: from cloud-config
ros:
  ssh:
    host_keys:
      - type: ed25519
        private: |
%s
        public: %s
  upgrade:
    url: http://ros:%s@169.254.169.254:8080/channel.json
`, pwUser, secretPassword, indent(string(hostKey.PrivatePEM), "          "), hostKey.AuthorizedKey, secretURLPass))
}

// TestSecurity checks the promises of the README's threat model on one
// machine (yml/ros.yml + yml/docker.yml, persistent disk, NoCloud
// user-data holding secrets): SSH, the read-only root, capabilities,
// user containers and the OOM killer, secrets, /etc after a reboot, and
// unsigned bundles. The API socket's refusals are TestNoCloud's and
// TestDocker's.
func TestSecurity(t *testing.T) {
	img := dockerImages(t)
	set := upgradeImages(t)
	hostKey, err := sshcheck.GenerateKey("e2e-host")
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{secretPassword, secretURLPass, keyBody(hostKey.PrivatePEM)}
	srv := newBundleServer(t)
	disk := persistentDisk(t, img.Base+".raw")
	seed := seedDir(t, fixture.Seed{UserData: securityUserData(hostKey), InstanceID: "iid-e2e-security"})
	m := boot(t, img, qemu.Config{Image: disk, Seed: seed, GuestForwards: []qemu.GuestForward{srv.forward()}})
	waitDocker(m)

	t.Run("ssh", func(t *testing.T) {
		m := m.with(t)
		if shadow := m.root("grep '^" + pwUser + ":' /etc/shadow"); !strings.HasPrefix(field(strings.ReplaceAll(shadow, ":", " "), 1), "$6$") {
			t.Fatalf("%s has no password hash in /etc/shadow (%q): the refusal below would prove nothing", pwUser, shadow)
		}
		if err := m.sshRefused(pwUser, ssh.Password(secretPassword), ssh.KeyboardInteractive(answer(secretPassword))); err != nil {
			t.Errorf("password login as %s: %v", pwUser, err)
		}
		stranger, err := sshcheck.GenerateKey("stranger")
		if err != nil {
			t.Fatal(err)
		}
		if err := m.sshRefused("ros", ssh.PublicKeys(stranger.Signer)); err != nil {
			t.Errorf("login as ros with a key nobody configured: %v", err)
		}
		// Root is given the key ros logs in with: only PermitRootLogin
		// can refuse it. /root is on the read-only image, so the key goes
		// on a tmpfs over it in sshd's mount namespace, where sshd looks.
		signer, err := ssh.ParsePrivateKey(m.key)
		if err != nil {
			t.Fatal(err)
		}
		m.root("mount -t tmpfs -o mode=0700 tmpfs /root && mkdir -m 0700 /root/.ssh && cp /home/ros/.ssh/authorized_keys /root/.ssh/")
		defer m.root("umount /root")
		if err := m.sshRefused("root", ssh.PublicKeys(signer)); err != nil {
			t.Errorf("login as root with an authorized key: %v", err)
		}
	})

	t.Run("listening", func(t *testing.T) {
		m := m.with(t)
		// Host network namespace (sshd's): every TCP and UDP socket that
		// listens, minus sshd's and the DHCP client's.
		var extra []string
		for _, line := range strings.Split(m.root("netstat -tuln"), "\n") {
			f := strings.Fields(line)
			if len(f) < 4 || (f[0] != "tcp" && f[0] != "tcp6" && f[0] != "udp" && f[0] != "udp6") {
				continue
			}
			if strings.HasSuffix(f[3], ":22") || (strings.HasPrefix(f[0], "udp") && strings.HasSuffix(f[3], ":68")) {
				continue
			}
			extra = append(extra, line)
		}
		if len(extra) > 0 {
			t.Errorf("listening besides sshd (22) and the DHCP client (68/udp):\n%s", strings.Join(extra, "\n"))
		}
	})

	t.Run("read-only root", func(t *testing.T) {
		m := m.with(t)
		for _, path := range []string{"/usr/e2e-write", "/e2e-write", "/usr/bin/ros"} {
			// In init's mount namespace: the host's own view of /.
			out, code := m.rootCode("nsenter -t 1 -m /bin/busybox sh -c 'echo x >> " + path + "'")
			if code == 0 || !strings.Contains(out, "Read-only file system") {
				t.Errorf("root writing %s on the host: exit %d %q, want Read-only file system", path, code, out)
			}
		}
	})

	t.Run("capabilities", func(t *testing.T) {
		m := m.with(t)
		lastCap, err := strconv.Atoi(strings.TrimSpace(m.ssh("cat /proc/sys/kernel/cap_last_cap")))
		if err != nil {
			t.Fatal(err)
		}
		list := m.services()
		for _, name := range []string{"getty", "dhcp", "ntpd", "sshd", "docker"} {
			want, err := declaredCaps(name, lastCap)
			if err != nil {
				t.Fatal(err)
			}
			pid := list[name].PID
			if pid <= 0 {
				t.Errorf("%s: no PID in ros service list (%+v)", name, list[name])
				continue
			}
			status := m.ssh(fmt.Sprintf("cat /proc/%d/status", pid))
			bnd, eff := capField(status, "CapBnd"), capField(status, "CapEff")
			if bnd != want {
				t.Errorf("%s (pid %d): CapBnd %#x, want %#x (images/%s/image.yml)", name, pid, bnd, want, name)
			}
			if eff&^want != 0 {
				t.Errorf("%s (pid %d): CapEff %#x has capabilities outside %#x", name, pid, eff, want)
			}
			t.Logf("%s: CapBnd %#x CapEff %#x", name, bnd, eff)
		}
	})

	t.Run("user containers", func(t *testing.T) {
		m := m.with(t)
		loadMarker(m)
		sshd := m.services()["sshd"].PID
		script := fmt.Sprintf("ls /proc | grep -c '^[0-9]'; kill -0 %d 2>&1; echo kill=$?; ls /run/containerd/containerd.sock /run/ros/ros.sock 2>&1; cat /proc/self/oom_score_adj", sshd)
		out, code := m.sshCode("docker run --rm " + markerRef + " /bin/busybox sh -c " + shellQuote(script))
		if code != 0 {
			t.Fatalf("docker run: exit %d: %s", code, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if n, _ := strconv.Atoi(lines[0]); n > 5 {
			t.Errorf("a user container sees %d processes, want only its own:\n%s", n, out)
		}
		if !strings.Contains(out, "kill=1") {
			t.Errorf("a user container could signal sshd (pid %d):\n%s", sshd, out)
		}
		if strings.Count(out, "No such file") != 2 {
			t.Errorf("a user container sees the containerd or ros socket:\n%s", out)
		}
		if got := lines[len(lines)-1]; got != "0" {
			t.Errorf("a user container's oom_score_adj = %s, want 0", got)
		}
	})

	t.Run("oom", func(t *testing.T) {
		m := m.with(t)
		loadMarker(m)
		protected := map[string]string{
			// Not Docker's own containerd: the system one, started by init.
			"containerd": m.pidOf("containerd", "--config /etc/containerd/config.toml"),
			"rosd":       m.pidOf("ros", "ros daemon"),
			"sshd":       strconv.Itoa(m.services()["sshd"].PID),
		}
		for name, pid := range protected {
			score, err := strconv.Atoi(strings.TrimSpace(m.ssh("cat /proc/" + pid + "/oom_score_adj")))
			if err != nil || score > -900 {
				t.Errorf("%s (pid %s): oom_score_adj %d %v, want -900 or lower", name, pid, score, err)
			}
		}
		memKB, err := strconv.Atoi(field(m.ssh("grep MemTotal /proc/meminfo"), 1))
		if err != nil {
			t.Fatal(err)
		}
		// One buffer of 95% of RAM: allowed by the kernel's overcommit
		// heuristic, then filled, so the OOM killer must act.
		since := len(m.console())
		out, code := m.sshCode(fmt.Sprintf("docker run --rm %s /bin/busybox dd if=/dev/zero of=/dev/null bs=%dk count=1", markerRef, memKB*95/100))
		if code != 137 {
			t.Errorf("memory hog in a user container: exit %d, want 137 (killed):\n%s", code, out)
		}
		// The hog runs as busybox (dd is its applet), at oom_score_adj 0.
		c := m.console()[since:]
		if !regexp.MustCompile(`Killed process \d+ \(busybox\).*oom_score_adj:0`).MatchString(c) {
			t.Errorf("console does not show the OOM killer taking the hog (busybox dd):\n%s", tail(c, 30))
		}
		for name, pid := range protected {
			if _, code := m.sshCode("test -d /proc/" + pid); code != 0 {
				t.Errorf("%s (pid %s) is gone after the memory hog", name, pid)
			}
		}
		if bad := notRunning(m.services()); len(bad) > 0 {
			t.Errorf("after the memory hog, not running: %v", bad)
		}
	})

	t.Run("secrets", func(t *testing.T) {
		m := m.with(t)
		private := m.ros("config export --private")
		for _, s := range secrets {
			if !strings.Contains(private, s) {
				t.Fatalf("ros config export --private lacks the secret %q: the checks below would prove nothing for it:\n%s", s, private)
			}
		}
		shown := map[string]string{
			"ros config export":  m.ros("config export"),
			"ros config history": m.ros("config history"),
			"ros events":         m.ros("events"),
			"the console":        m.console(),
			"files under /var/log": m.root("grep -r -l -F -e " + strings.Join(quoteAll(secrets), " -e ") +
				" /var/log || true"),
		}
		for where, text := range shown {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("%s shows the secret %q", where, s)
				}
			}
		}
		if files := strings.TrimSpace(shown["files under /var/log"]); files != "" {
			t.Errorf("files under /var/log hold secrets: %s", files)
		}
	})

	m.root("echo changed-by-hand > /hostroot/etc/ros-e2e/security.txt; echo by-hand > /hostroot/etc/e2e-by-hand")
	m.reboot(m.cfg)
	t.Run("etc after reboot", func(t *testing.T) {
		m := m.with(t)
		if _, code := m.sshCode("test -e /hostroot/etc/e2e-by-hand"); code == 0 {
			t.Errorf("/etc/e2e-by-hand, written by hand, survived a reboot")
		}
		if got := m.ssh("cat /hostroot/etc/ros-e2e/security.txt"); got != "from cloud-config" {
			t.Errorf("/etc/ros-e2e/security.txt after a reboot = %q, want cloud-config's %q", got, "from cloud-config")
		}
	})

	t.Run("unsigned bundle", func(t *testing.T) {
		m := m.with(t)
		url := srv.add("unsigned.bundle", badBundles(t, set.v2, set.signKey)["unsigned"].file)
		before := slotHashes(t, disk)
		out, code := m.sshCode("ros os upgrade --no-reboot --bundle " + url)
		if code == 0 || !strings.Contains(out, "not signed") {
			t.Errorf("upgrade with an unsigned bundle: exit %d %q, want a refusal saying not signed", code, out)
		}
		if after := slotHashes(t, disk); after["B"] != before["B"] {
			t.Errorf("the refused unsigned bundle changed slot B")
		}
		if out, code := m.sshCode("ros os upgrade --insecure --no-reboot --bundle " + url); code != 0 {
			t.Fatalf("upgrade --insecure with an unsigned bundle: exit %d:\n%s", code, out)
		}
		if ev := m.ros("events"); !strings.Contains(ev, "--insecure") {
			t.Errorf("ros events does not record the --insecure upgrade:\n%s", ev)
		}
	})
}

// root runs a busybox shell command as root on the host (in the sshd
// container: host PID namespace, all capabilities) through the API, and
// fails the test on a non-zero exit.
func (m *machine) root(cmd string) string {
	m.t.Helper()
	out, code := m.rootCode(cmd)
	if code != 0 {
		m.t.Fatalf("as root: %s: exit %d: %s", cmd, code, out)
	}
	return strings.TrimSpace(out)
}

// rootCode is root returning the output and exit code.
func (m *machine) rootCode(cmd string) (string, int) {
	m.t.Helper()
	return m.sshCode("system-docker exec sshd /bin/busybox sh -c " + shellQuote(cmd))
}

// pidOf returns the PID of the one process named name whose command line
// holds args.
func (m *machine) pidOf(name, args string) string {
	m.t.Helper()
	var found []string
	out := m.root("for p in $(pidof " + name + "); do echo \"$p $(tr '\\0' ' ' < /proc/$p/cmdline)\"; done")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, args) {
			found = append(found, field(line, 0))
		}
	}
	if len(found) != 1 {
		m.t.Fatalf("processes %s with %q: %q, want one:\n%s", name, args, found, out)
	}
	return found[0]
}

// sshRefused returns nil when the machine refuses a login as user with
// auth, and an error saying what happened otherwise.
func (m *machine) sshRefused(user string, auth ...ssh.AuthMethod) error {
	cfg := &ssh.ClientConfig{User: user, Auth: auth, HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(m.t.Context(), time.Minute)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", m.vm.SSHPort()))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	c, chans, reqs, err := ssh.NewClientConn(conn, "machine", cfg)
	if err == nil {
		ssh.NewClient(c, chans, reqs).Close()
		return fmt.Errorf("logged in, want a refusal")
	}
	if !strings.Contains(err.Error(), "unable to authenticate") {
		return fmt.Errorf("failed for another reason than authentication: %w", err)
	}
	m.t.Logf("login as %s refused: %v", user, err)
	return nil
}

// answer answers every keyboard-interactive question with s.
func answer(s string) ssh.KeyboardInteractiveChallenge {
	return func(_, _ string, questions []string, _ []bool) ([]string, error) {
		a := make([]string, len(questions))
		for i := range a {
			a[i] = s
		}
		return a, nil
	}
}

// loadMarker loads the marker image into Docker unless it is there.
func loadMarker(m *machine) {
	m.t.Helper()
	if _, code := m.sshCode("docker image inspect " + markerRef + " >/dev/null"); code == 0 {
		return
	}
	archive := readFile(m.t, markerArchive(m.t))
	if out, code := m.sshAs("ros", m.key, "docker load", bytes.NewReader(archive)); code != 0 {
		m.t.Fatalf("docker load: exit %d: %s", code, out)
	}
}

// declaredCaps returns the capability mask images/NAME/image.yml declares
// ("all": every capability up to lastCap).
func declaredCaps(name string, lastCap int) (uint64, error) {
	r, err := recipe.Load("../../images/" + name)
	if err != nil {
		return 0, err
	}
	list, _ := r.Config["capabilities"].([]any)
	var mask uint64
	for _, c := range list {
		s := fmt.Sprint(c)
		if s == "all" {
			return 1<<(lastCap+1) - 1, nil
		}
		bit := capBit(s)
		if bit < 0 {
			return 0, fmt.Errorf("images/%s: unknown capability %q", name, s)
		}
		mask |= 1 << bit
	}
	return mask, nil
}

// capBit is the kernel's number of a capability name, or -1.
func capBit(name string) int {
	return slices.Index(buildfile.AllCapabilities(), name)
}

// capField reads a hex capability set ("CapBnd:\t000001ffffffffff") from
// /proc/PID/status text.
func capField(status, name string) uint64 {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return n
		}
	}
	return 0
}

// keyBody is a line from the middle of a PEM private key: text that only
// the key itself holds.
func keyBody(pem []byte) string {
	lines := strings.Split(strings.TrimSpace(string(pem)), "\n")
	return lines[len(lines)/2]
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// quoteAll quotes each string for a POSIX shell.
func quoteAll(ss []string) []string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = shellQuote(s)
	}
	return q
}
