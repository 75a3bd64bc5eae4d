package e2e

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/cloudconfig"
)

// The user-data the tests hand the machine. TestUserData checks each
// against pkg/cloudconfig without booting anything, so a boot test failing
// on them points at the machine, not at the fixture.

// Hostnames and files the configs set; files go under /etc (a writable
// overlay on the machine, seen by SSH sessions as /hostroot/etc).
const (
	nocloudHostname = "ros-nocloud"
	nocloudMetaHost = "nocloud-meta" // meta-data local-hostname: user-data must win
	ec2Hostname     = "ros-ec2"
	goodHostname    = "ros-good"
	brokenHostname  = "ros-broken"

	guestUser = "e2e-guest" // made by cloud-config, not in group ros

	b64Content = "decoded from base64\n"
)

// nocloudUserData sets the hostname, ros's SSH key, a second user outside
// group ros, files (plain, base64, mode and owner) and runcmd.
func nocloudUserData(rosKey, guestKey string) []byte {
	return []byte(fmt.Sprintf(`#cloud-config
hostname: %s
ssh_authorized_keys:
  - %s
users:
  - default
  - name: %s
    ssh_authorized_keys:
      - %s
write_files:
  - path: /etc/ros-e2e/nocloud.txt
    content: |
      written by write_files
    permissions: "0640"
    owner: ros:ros
  - path: /etc/ros-e2e/b64.txt
    encoding: b64
    content: %s
runcmd:
  - echo "runcmd saw hostname $(hostname)" > /etc/ros-e2e/runcmd.txt
  - [sh, -c, "id -u > /etc/ros-e2e/runcmd-uid.txt"]
`, nocloudHostname, rosKey, guestUser, guestKey, base64.StdEncoding.EncodeToString([]byte(b64Content))))
}

// ec2UserData is served by the metadata server.
func ec2UserData(rosKey string) []byte {
	return []byte(fmt.Sprintf(`#cloud-config
hostname: %s
ssh_authorized_keys:
  - %s
write_files:
  - path: /etc/ros-e2e/ec2.txt
    content: "from the metadata server\n"
`, ec2Hostname, rosKey))
}

// goodUserData is the config the machine keeps when a broken one follows.
var goodUserData = []byte(`#cloud-config
hostname: ` + goodHostname + `
write_files:
  - path: /etc/ros-e2e/good.txt
    content: "from the last good config\n"
`)

// brokenUserData has a wrong type under ros: (an error) and an unknown
// section (a warning); its hostname and file must never be applied.
var brokenUserData = []byte(`#cloud-config
hostname: ` + brokenHostname + `
write_files:
  - path: /etc/ros-e2e/broken.txt
    content: "must never be written\n"
frobnicate:
  a: 1
ros:
  sysctl:
    vm.swappiness: [1, 2]
`)

// validateCases are documents `ros config validate FILE` must judge: a
// YAML syntax error, a wrong type, an unknown section (valid, warned).
var validateCases = []struct {
	name  string
	doc   []byte
	valid bool
}{
	{"bad-yaml", []byte("#cloud-config\nhostname: x\n  nested: wrong\n"), false},
	{"wrong-type", []byte("#cloud-config\nhostname: x\nssh_authorized_keys:\n  key: value\n"), false},
	{"unknown-section", []byte("#cloud-config\nhostname: x\nfrobnicate:\n  a: 1\n"), true},
}

// problem is what a validator must name for a document: the key and line
// of its first error, or of its first warning when it is valid.
type problem struct {
	Path string
	Line int
}

// String is the "LINE: PATH" part of pkg/cloudconfig's messages
// ("user-data:9: ros.sysctl.vm.swappiness: expected ...").
func (p problem) String() string {
	if p.Path == "" {
		return fmt.Sprintf(":%d: ", p.Line)
	}
	return fmt.Sprintf(":%d: %s", p.Line, p.Path)
}

// expectProblem parses doc with pkg/cloudconfig and returns the problem a
// validator must report.
func expectProblem(t *testing.T, doc []byte) (problem, bool) {
	t.Helper()
	_, warns, err := cloudconfig.Parse("user-data", doc)
	if err != nil {
		var ce *cloudconfig.Error
		if !errors.As(err, &ce) {
			t.Fatalf("cloudconfig.Parse() = %v (%T), want a *cloudconfig.Error", err, err)
		}
		return problem{Path: ce.Path, Line: ce.Line}, false
	}
	if len(warns) == 0 {
		t.Fatalf("cloudconfig.Parse(%q): no error and no warning", doc)
	}
	return problem{Path: warns[0].Path, Line: warns[0].Line}, true
}

// mentions reports whether validator output names p: the key, and the
// line as pkg/cloudconfig writes it (":9:") or in words ("line 9").
func mentions(out string, p problem) bool {
	if p.Path != "" && !strings.Contains(out, p.Path) {
		return false
	}
	return strings.Contains(out, fmt.Sprintf(":%d:", p.Line)) || strings.Contains(out, fmt.Sprintf("line %d", p.Line))
}

// TestUserData checks the fixtures themselves: the good ones parse without
// errors or warnings, the broken ones fail where the tests expect.
func TestUserData(t *testing.T) {
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLpRqAeqvWqXAAdT0VvEM9jqWkC8fSbyGnlUWtAS1Ph e2e"
	for name, doc := range map[string][]byte{
		"nocloud": nocloudUserData(key, key),
		"ec2":     ec2UserData(key),
		"good":    goodUserData,
	} {
		c, warns, err := cloudconfig.Parse("user-data", doc)
		if err != nil || len(warns) > 0 {
			t.Errorf("cloudconfig.Parse(%s) = %v, warnings %q, want no problem", name, err, warns.String())
			continue
		}
		if c.Hostname == "" || len(c.WriteFiles) == 0 {
			t.Errorf("cloudconfig.Parse(%s): hostname %q, %d files, want both set", name, c.Hostname, len(c.WriteFiles))
		}
	}
	c, _, err := cloudconfig.Parse("user-data", nocloudUserData(key, key))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.WriteFiles[1].Decode(); err != nil || string(got) != b64Content {
		t.Errorf("b64 file decodes to %q, %v, want %q", got, err, b64Content)
	}
	if len(c.Users) != 2 || c.Users[1].Name != guestUser || len(c.Runcmd) != 2 {
		t.Errorf("nocloud users %+v, runcmd %d, want default and %s, 2 commands", c.Users, len(c.Runcmd), guestUser)
	}

	if p, valid := expectProblem(t, brokenUserData); valid || p != (problem{"ros.sysctl.vm.swappiness", 10}) {
		t.Errorf("broken user-data: problem %v valid %v, want ros.sysctl.vm.swappiness at line 10, invalid", p, valid)
	}
	for _, tt := range validateCases {
		p, valid := expectProblem(t, tt.doc)
		if valid != tt.valid || p.Line == 0 {
			t.Errorf("%s: problem %v valid %v, want a line and valid %v", tt.name, p, valid, tt.valid)
		}
	}
}
