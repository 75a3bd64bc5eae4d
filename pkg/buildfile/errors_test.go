package buildfile

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// Every bad input gives one line naming file, line and key.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown key", `
services:
  - name: sshd
    image: ros/sshd
  - name: getty
    image: ros/getty
    enviroment:
      - A=b
`, `ros.yml:7: services[1] "getty": unknown key "enviroment"`},
		{"unknown key suggestion", `
onboot:
  - name: x
    image: ros/x
    comand: [a]
`, `ros.yml:5: onboot[0] "x": unknown key "comand" (did you mean "command"?)`},
		{"unknown top-level key", "kernal:\n  image: ros/kernel\n", `ros.yml:1: unknown key "kernal" (did you mean "kernel"?)`},
		{"wrong type sequence for string", `
kernel:
  image: ros/kernel
  cmdline:
    - console=ttyS0
`, `ros.yml:5: kernel.cmdline: expected a string, got a sequence`},
		{"wrong type string for list", `
services:
  - name: getty
    image: ros/getty
    env: A=b
`, `ros.yml:5: services[0] "getty" env: expected a sequence of strings, got a string`},
		{"integer for string", `
files:
  - path: etc/x
    contents: hi
    mode: 0600
`, `ros.yml:5: files[0] "etc/x" mode: expected a string, got an integer (quote it: "0600")`},
		{"bool", `
services:
  - name: a
    image: ros/a
    readonly: yes please
`, `ros.yml:5: services[0] "a" readonly: expected true or false, got a string "yes please"`},
		{"nested runtime key", `
services:
  - name: a
    image: ros/a
    runtime:
      mkdirs: [/x]
`, `ros.yml:6: services[0] "a" runtime: unknown key "mkdirs" (did you mean "mkdir"?)`},
		{"null value", `
services:
  - name: a
    image: ros/a
    env:
`, `ros.yml:5: services[0] "a" env: expected a sequence of strings, got null (remove the key or give it a value)`},
		{"repeated key", `
services:
  - name: a
    image: ros/a
    net: host
    net: new
`, `ros.yml:6: services[0] "a": key "net" repeated (first at line 5)`},
		{"duplicate service", `
services:
  - name: getty
    image: ros/getty
  - name: sshd
    image: ros/sshd
  - name: getty
    image: ros/getty2
`, `ros.yml:7: services[2] "getty": duplicate service name "getty", first used at ros.yml:3`},
		{"two content sources", `
files:
  - path: etc/motd
    contents: hello
    source: motd.txt
`, `ros.yml:5: files[0] "etc/motd": both contents and source given: give only one of contents, source, symlink, metadata or directory`},
		{"directory and contents", `
files:
  - path: etc/d
    contents: x
    directory: true
`, `ros.yml:5: files[0] "etc/d": both contents and directory given: give only one of contents, source, symlink, metadata or directory`},
		{"no content", `
files:
  - path: etc/motd
    mode: "0644"
`, `ros.yml:3: files[0] "etc/motd": nothing to write: give one of contents, source, symlink, metadata or directory: true`},
		{"missing path", `
files:
  - contents: x
`, `ros.yml:3: files[0]: missing path`},
		{"bad metadata", `
files:
  - path: etc/m
    metadata: toml
`, `ros.yml:4: files[0] "etc/m" metadata: expected yaml or json, got "toml"`},
		{"bad mode", `
files:
  - path: etc/m
    contents: x
    mode: "rw-r--r--"
`, `ros.yml:5: files[0] "etc/m" mode: expected an octal permission like "0644", got "rw-r--r--"`},
		{"missing name", `
onboot:
  - image: ros/sysctl
`, `ros.yml:3: onboot[0]: missing name: every entry needs a name and an image`},
		{"missing image", `
onboot:
  - name: sysctl
`, `ros.yml:3: onboot[0] "sysctl": missing image: every entry needs a name and an image`},
		{"bad image reference", `
services:
  - name: a
    image: ros/Getty
`, `ros.yml:4: services[0] "a" image: bad image reference "ros/Getty": invalid reference format: repository name (ros/Getty) must be lowercase`},
		{"bad init reference", `
init:
  - ros/init
  - "ros/init:"
`, `ros.yml:4: init[1]: bad image reference "ros/init:": invalid reference format`},
		{"newline in reference (found by FuzzParse)", "kernel:\n  image: \"0\\nA\"\n",
			`ros.yml:2: kernel.image: bad image reference "0\nA": invalid reference format: repository name (library/0\nA) must be lowercase`},
		{"unknown capability", `
services:
  - name: a
    image: ros/a
    capabilities:
      - CAP_NET_ADMIN
      - NET_RAW
`, `ros.yml:7: services[0] "a" capabilities[1]: unknown capability "NET_RAW" (expected a name like CAP_NET_ADMIN, or a list of just "all" or "none")`},
		{"bad bind", `
services:
  - name: a
    image: ros/a
    binds.add:
      - /var/run
`, `ros.yml:6: services[0] "a" binds.add[0]: bind "/var/run": expected source:destination[:options], missing ':'`},
		{"bad rlimit", `
services:
  - name: a
    image: ros/a
    rlimits: ["nofile,1024"]
`, `ros.yml:5: services[0] "a" rlimits[0]: rlimit "nofile,1024": expected name,soft,hard`},
		{"bad volume name", `
volumes:
  - name: My-Vol
`, `ros.yml:3: volumes[0] "My-Vol" name: bad volume name "My-Vol": expected lower-case letters, digits, '_' and '-'`},
		{"top level sequence", "- a\n- b\n", `ros.yml:1: expected a mapping at the top level, got a sequence`},
		{"syntax", "kernel:\n  image: [a\n", `ros.yml:1: YAML syntax: did not find expected ',' or ']'`},
		{"uid", `
services:
  - name: a
    image: ros/a
    uid: [1]
`, `ros.yml:5: services[0] "a" uid: expected a number or a name, got a sequence`},
		{"mount missing type", `
services:
  - name: a
    image: ros/a
    mounts:
      - destination: /data
        source: /var/data
`, `ros.yml:6: services[0] "a" mounts[0]: mount for destination "/data" is missing type`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("ros.yml", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse() = nil error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Parse() error\n got %s\nwant %s", got, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Parse() error spans lines: %q", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false, want true", err)
			}
		})
	}
}

func TestMergeDuplicateService(t *testing.T) {
	a := mustParse(t, "a.yml", "services:\n  - name: getty\n    image: ros/getty\n")
	b := mustParse(t, "b.yml", "services:\n  - name: sshd\n    image: ros/sshd\n  - name: getty\n    image: linuxkit/getty\n")
	_, err := Merge(a, b)
	want := `b.yml:4: services[2] "getty": duplicate service name "getty", first used at a.yml:2`
	if err == nil || err.Error() != want {
		t.Errorf("Merge() error = %v, want %s", err, want)
	}
}

func TestUnreadableSource(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "ros.yml")
	c := mustParse(t, yml, "files:\n  - path: etc/motd\n    contents: hi\n  - path: etc/issue\n    source: missing.txt\n")
	_, err := c.Contents(c.Files[1])
	want := yml + `:4: files "etc/issue": cannot read source ` + filepath.Join(dir, "missing.txt") + `: no such file or directory`
	if err == nil || err.Error() != want {
		t.Errorf("Contents() error = %v\nwant %s", err, want)
	}
}

func TestAliasBomb(t *testing.T) {
	// merge keys nested nine deep, ten wide: 10^9 decodes if unbounded
	var b strings.Builder
	b.WriteString("x-defs:\n")
	b.WriteString("services:\n  - &a0\n    name: a\n    image: ros/a\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "  - &a%d\n    <<: [", i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		fmt.Fprintf(&b, "]\n    name: s%d\n", i)
	}
	src := strings.Replace(b.String(), "x-defs:\n", "", 1)
	_, err := Parse("bomb.yml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "document too large") {
		t.Errorf("Parse(merge-key bomb) = %v, want a document too large error", err)
	}
}
