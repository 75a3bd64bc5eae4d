package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/sshcheck"
	"github.com/ros-os/ros/tests/fixture"
)

// applyTimeout bounds the wait for cloud-config from a network source,
// read once the network is up (after services ready).
const applyTimeout = 3 * time.Minute

// TestNoCloud boots the disk with a NoCloud seed ISO ("cidata") whose
// user-data sets the hostname, an SSH key for ros that the image does not
// hold, a user outside group ros, files and runcmd. SSH with that key must
// work, the results be there, and `ros config get hostname` agree. The
// same boot checks the API socket's refusal of users outside group ros,
// and `ros config validate FILE` on broken documents.
func TestNoCloud(t *testing.T) {
	img := testImages(t)
	rosKey, err := sshcheck.GenerateKey("nocloud-ros")
	if err != nil {
		t.Fatal(err)
	}
	guestKey, err := sshcheck.GenerateKey("nocloud-guest")
	if err != nil {
		t.Fatal(err)
	}
	seed := filepath.Join(t.TempDir(), "seed")
	if err := (fixture.Seed{
		UserData:   nocloudUserData(rosKey.AuthorizedKey, guestKey.AuthorizedKey),
		InstanceID: "iid-e2e-nocloud",
		Hostname:   nocloudMetaHost,
	}).WriteDir(seed); err != nil {
		t.Fatal(err)
	}
	m := boot(t, img, qemu.Config{Image: img.Base + ".raw", Snapshot: true, Seed: seed})

	// Log in with the key from user-data only: the image's baked-in key is
	// another one. Say what the machine shows if that fails.
	if err := m.canLogin("ros", rosKey.PrivatePEM); err != nil {
		out, _ := m.sshCode("hostname; ls -la /home/ros/.ssh; cat /home/ros/.ssh/authorized_keys; tail -n 30 /var/log/ros/rosd.log")
		t.Fatalf("ssh as ros with the key from NoCloud user-data: %v\nwith the image's key the machine shows:\n%s", err, out)
	}
	m.key = rosKey.PrivatePEM
	t.Run("hostname", func(t *testing.T) {
		m := m.with(t)
		if got := strings.TrimSpace(m.ssh("hostname")); got != nocloudHostname {
			t.Errorf("hostname = %q, want %q (user-data; meta-data says %q)", got, nocloudHostname, nocloudMetaHost)
		}
		if got := strings.TrimSpace(m.ssh("cat /hostroot/etc/hostname")); got != nocloudHostname {
			t.Errorf("/etc/hostname = %q, want %q", got, nocloudHostname)
		}
		if got := unquote(m.ros("config get hostname")); got != nocloudHostname {
			t.Errorf("ros config get hostname = %q, want %q", got, nocloudHostname)
		}
	})
	t.Run("write_files", func(t *testing.T) {
		m := m.with(t)
		ls := m.ssh("ls -ln /hostroot/etc/ros-e2e/nocloud.txt")
		if mode, uid, gid := field(ls, 0), field(ls, 2), field(ls, 3); mode != "-rw-r-----" || uid != "1000" || gid != "1000" {
			t.Errorf("nocloud.txt: %q, want -rw-r----- owned 1000:1000 (permissions 0640, owner ros:ros)", strings.TrimSpace(ls))
		}
		if got := m.ssh("cat /hostroot/etc/ros-e2e/nocloud.txt"); got != "written by write_files\n" {
			t.Errorf("nocloud.txt = %q, want %q", got, "written by write_files\n")
		}
		if got := m.ssh("cat /hostroot/etc/ros-e2e/b64.txt"); got != b64Content {
			t.Errorf("b64.txt = %q, want %q (encoding: b64)", got, b64Content)
		}
	})
	t.Run("runcmd", func(t *testing.T) {
		m := m.with(t)
		if got, want := m.ssh("cat /hostroot/etc/ros-e2e/runcmd.txt"), "runcmd saw hostname "+nocloudHostname+"\n"; got != want {
			t.Errorf("runcmd.txt = %q, want %q", got, want)
		}
		if got := strings.TrimSpace(m.ssh("cat /hostroot/etc/ros-e2e/runcmd-uid.txt")); got != "0" {
			t.Errorf("runcmd ran as uid %q, want 0", got)
		}
	})
	t.Run("socket", func(t *testing.T) {
		m := m.with(t)
		checkSocketRefusal(t, m, guestKey.PrivatePEM)
	})
	t.Run("validate", func(t *testing.T) {
		m := m.with(t)
		out, code := m.sshCode("ros config validate")
		if code != 0 {
			t.Errorf("ros config validate (the booted user-data): exit %d %s, want 0:\n%s", code, rosHint, out)
		}
		for _, tt := range validateCases {
			want, valid := expectProblem(t, tt.doc)
			path := "/tmp/validate-" + tt.name + ".yaml"
			m.put(path, tt.doc)
			out, code := m.sshCode("ros config validate " + path)
			if (code == 0) != valid {
				t.Errorf("ros config validate %s (%s): exit %d, want valid %v %s:\n%s", path, tt.name, code, valid, rosHint, out)
			}
			if !mentions(out, want) {
				t.Errorf("ros config validate %s (%s) does not name %q (key and line):\n%s", path, tt.name, want, out)
			}
			t.Logf("ros config validate %s: exit %d:\n%s", path, code, out)
		}
	})
}

// checkSocketRefusal: ros (group ros) may use the API socket; guestUser,
// made by cloud-config outside group ros, is refused.
func checkSocketRefusal(t *testing.T, m *machine, guestKey []byte) {
	t.Helper()
	ls := m.ssh("ls -ln /run/ros/ros.sock")
	if mode, uid, gid := field(ls, 0), field(ls, 2), field(ls, 3); mode != "srw-rw----" || uid != "0" || gid != "1000" {
		t.Errorf("/run/ros/ros.sock: %q, want srw-rw---- owned 0:1000 (root:ros)", strings.TrimSpace(ls))
	}
	if out, code := m.sshCode("ros service list"); code != 0 || !strings.Contains(out, "sshd") {
		t.Errorf("ros service list as ros (group ros): exit %d, want 0 and a list naming sshd %s:\n%s", code, rosHint, out)
	}
	id, code := m.sshAs(guestUser, guestKey, "id", nil)
	if code != 0 {
		t.Fatalf("ssh as %s (users: in user-data): id exit %d: %s", guestUser, code, id)
	}
	if regexp.MustCompile(`\b1000\(ros\)|\(ros\)`).MatchString(id) {
		t.Fatalf("%s is in group ros (%s): the refusal cannot be tested", guestUser, strings.TrimSpace(id))
	}
	out, code := m.sshAs(guestUser, guestKey, "ros service list", nil)
	if code == 0 {
		t.Errorf("ros service list as %s (%s): exit 0, want a refusal:\n%s", guestUser, strings.TrimSpace(id), out)
	}
	if !refusal.MatchString(out) {
		t.Errorf("ros service list as %s: output does not say it was refused (permission, forbidden or group ros):\n%s", guestUser, out)
	}
	t.Logf("ros service list as %s (%s): exit %d: %s", guestUser, strings.TrimSpace(id), code, strings.TrimSpace(out))
}

// refusal matches what a client refused by the socket (EACCES on connect,
// or HTTP 403 naming the group) prints.
var refusal = regexp.MustCompile(`(?i)permission denied|forbidden|403|group .?ros|not allowed|refused`)

// unquote trims a YAML or JSON scalar as `ros config get` may print it.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		s = s[1 : len(s)-1]
	}
	return s
}

// TestMetadataServer boots the disk with no seed and an EC2-style
// metadata server on host loopback, reached from the guest at
// 169.254.169.254 through QEMU's guestfwd. The default datasource list
// ends with ec2; its user-data must be applied once the network is up.
// The user-data's SSH key replaces the image's, so the test logs in with
// it once the config is applied.
func TestMetadataServer(t *testing.T) {
	img := testImages(t)
	key, err := sshcheck.GenerateKey("ec2-ros")
	if err != nil {
		t.Fatal(err)
	}
	imds := &fixture.IMDS{UserData: ec2UserData(key.AuthorizedKey), InstanceID: "i-0e2e00000000000ec2", Hostname: "ip-169-254-2-15.ec2.internal"}
	srv := imds.Start()
	defer srv.Close()
	m := boot(t, img, qemu.Config{Image: img.Base + ".raw", Snapshot: true,
		GuestForwards: []qemu.GuestForward{fixture.GuestForward(srv)}})
	ready := time.Now()
	applied := m.watchConsole(appliedLine)

	if err := m.waitLogin("ros", key.PrivatePEM, applyTimeout); err != nil {
		// Say whether the guest reaches the server at all, with the image's
		// key (still valid if nothing was applied). busybox nc: the static
		// busybox's wget crashes in the sshd container (no nsswitch.conf).
		get := `printf 'GET /latest/meta-data/instance-id HTTP/1.0\r\n\r\n' | busybox nc -w 10 169.254.169.254 80; echo; tail -n 20 /var/log/ros/rosd.log`
		out, code := m.sshCode(get)
		t.Fatalf("ec2 user-data not applied: no login with its SSH key within %s: %v\nmetadata requests: %v\n"+
			"guest GET 169.254.169.254/latest/meta-data/instance-id (exit %d):\n%s", applyTimeout, err, imds.Requests(), code, out)
	}
	if at, ok := applied(); ok {
		t.Logf("services ready to %q on the console: %s", appliedLine, at.Sub(ready).Round(10*time.Millisecond))
	}
	m.key = key.PrivatePEM

	if got := m.ssh("cat /hostroot/etc/ros-e2e/ec2.txt"); got != "from the metadata server\n" {
		t.Errorf("/etc/ros-e2e/ec2.txt = %q, want %q", got, "from the metadata server\n")
	}
	if got := strings.TrimSpace(m.ssh("hostname")); got != ec2Hostname {
		t.Errorf("hostname = %q, want %q (user-data; meta-data local-hostname is %q)", got, ec2Hostname, imds.Hostname)
	}
	if got := unquote(m.ros("config get hostname")); got != ec2Hostname {
		t.Errorf("ros config get hostname = %q, want %q", got, ec2Hostname)
	}
	if out := m.ros("config history"); !strings.Contains(out, "ec2") {
		t.Errorf("ros config history does not name the ec2 source:\n%s", out)
	}
	if !imds.Served("/latest/user-data") {
		t.Errorf("the server never served /latest/user-data; requests: %v", imds.Requests())
	}
	var sawToken bool
	for _, r := range imds.Requests() {
		if r.Method == "PUT" && r.Path == "/latest/api/token" && r.Status == 200 {
			sawToken = true
		}
		if r.Path == "/latest/user-data" && !r.Token {
			t.Errorf("user-data fetched without the IMDSv2 token: %v", r)
		}
	}
	if !sawToken {
		t.Errorf("no IMDSv2 token request (PUT /latest/api/token); requests: %v", imds.Requests())
	}
}

// appliedLine is what rosd prints on the console once it applied
// cloud-config; only logged, for the time from services ready.
var appliedLine = regexp.MustCompile(`ros: cloud-config applied`)
