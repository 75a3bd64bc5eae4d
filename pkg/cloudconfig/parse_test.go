package cloudconfig

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"wrong int", "#cloud-config\nros:\n  network:\n    interfaces:\n      eth0:\n        mtu: big\n",
			`user-data:6: ros.network.interfaces.eth0.mtu: expected an integer, got "big"`},
		{"wrong bool", "#cloud-config\nros:\n  network:\n    interfaces:\n      eth0:\n        dhcp: 3\n",
			`user-data:6: ros.network.interfaces.eth0.dhcp: expected true or false, got "3"`},
		{"list for string", "#cloud-config\nhostname: [a, b]\n",
			`user-data:2: hostname: expected a string, got a list`},
		{"scalar for mapping", "#cloud-config\nros:\n  network: true\n",
			`user-data:3: ros.network: expected a mapping, got the boolean true`},
		{"scalar for list", "#cloud-config\nwrite_files: /etc/x\n",
			`user-data:2: write_files: expected a list, got the string "/etc/x"`},
		{"mapping in runcmd", "#cloud-config\nruncmd:\n  - {a: b}\n",
			`user-data:3: runcmd[0]: expected a command string or a list of arguments, got a mapping`},
		{"nested list in argv", "#cloud-config\nruncmd:\n  - [ls, [x]]\n",
			`user-data:3: runcmd[0][1]: expected a single value in a command string or a list of arguments, got a list`},
		{"sudo true", "#cloud-config\nusers:\n  - name: a\n    sudo: true\n",
			`user-data:4: users[0].sudo: expected a sudoers rule, a list of them or false, got "true"`},
		{"repeated key", "#cloud-config\nhostname: a\nhostname: b\n",
			`user-data:3: hostname: key repeated (first at line 2)`},
		{"repeated interface", "#cloud-config\nros:\n  network:\n    interfaces:\n      eth0: {}\n      eth0: {}\n",
			`user-data:6: ros.network.interfaces.eth0: key repeated (first at line 5)`},
		{"yaml syntax", "#cloud-config\nhostname: a\n  bad: [\n",
			`user-data:3: YAML syntax:`},
		{"top-level list", "#cloud-config\n- a\n", `user-data:2: expected a mapping at the top level, got a list`},
		{"two documents", "#cloud-config\na: 1\n---\nb: 2\n", `user-data:3: more than one YAML document`},
		{"bad definition", "#cloud-config\nros:\n  services:\n    definitions:\n      - name: x\n        image: alpine\n        capabilities: [CAP_NOPE]\n",
			`user-data:7: ros.services.definitions[0].capabilities`},
		{"definition unknown key", "#cloud-config\nros:\n  services:\n    definitions:\n      - name: x\n        image: alpine\n        comand: [a]\n",
			`ros.services.definitions[0]: unknown key "comand"`},
		{"unknown format", "hostname: a\n", `unrecognized user-data format: first line "hostname: a"`},
		{"jinja", "## template: jinja\n#cloud-config\n", `"## template: jinja" user-data is not supported`},
		{"bad gzip", "\x1f\x8bnot gzip", `gunzip`},
		{"truncated gzip", "\x1f\x8b", `gunzip`},
		{"bad base64 part", "Content-Type: text/x-shellscript\nContent-Transfer-Encoding: base64\n\n!!!!\n", `read MIME body`},
		{"validation", "#cloud-config\nwrite_files:\n  - path: etc/x\n", `user-data:3: write_files[0].path: "etc/x" is not an absolute path`},
		{"alias bomb", "#cloud-config\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
			"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nros:\n  engine: {daemon: {x: [*e, *e, *e]}}\n", `alias`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Parse("user-data", []byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%q) = %v, want error containing %q", tt.in, err, tt.want)
			}
			if c != nil {
				t.Errorf("Parse(%q) returned a config with its error", tt.in)
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrFormat) {
				t.Errorf("Parse(%q) error %v wraps neither ErrInvalid nor ErrFormat", tt.in, err)
			}
		})
	}
}

func TestParseFormats(t *testing.T) {
	yml := "#cloud-config\nhostname: zipped\n"
	tests := []struct {
		name         string
		in           []byte
		wantHost     string
		wantScripts  int
		wantIncludes int
	}{
		{"empty", nil, "", 0, 0},
		{"blank", []byte("\n  \n"), "", 0, 0},
		{"bom and CRLF", []byte("\xef\xbb\xbf#cloud-config\r\nhostname: crlf\r\n"), "crlf", 0, 0},
		{"gzip", gz(t, yml), "zipped", 0, 0},
		{"gzip of gzip", gz(t, string(gz(t, yml))), "zipped", 0, 0},
		{"gzip script", gz(t, "#!/bin/sh\ntrue\n"), "", 1, 0},
		{"include-once", []byte("#include-once\nhttp://a/b\n"), "", 0, 1},
		{"single MIME part", []byte("Content-Type: text/cloud-config\n\nhostname: mime\n"), "mime", 0, 0},
		{"MIME base64", []byte("Content-Type: text/x-shellscript\nContent-Transfer-Encoding: base64\n\nIyEvYmluL3NoCmVjaG8gaGkK\n"), "", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, w, err := Parse("user-data", tt.in)
			if err != nil {
				t.Fatalf("Parse = %v (warnings %v)", err, w)
			}
			if c.Hostname != tt.wantHost || len(c.Scripts) != tt.wantScripts || len(c.Includes) != tt.wantIncludes {
				t.Errorf("Parse = hostname %q, %d scripts, %d includes; want %q, %d, %d",
					c.Hostname, len(c.Scripts), len(c.Includes), tt.wantHost, tt.wantScripts, tt.wantIncludes)
			}
		})
	}
}

func TestParseMultipartGzipPart(t *testing.T) {
	body := gz(t, "#cloud-config\nhostname: gzpart\n")
	msg := "Content-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: application/gzip\n\n" + string(body) + "\n--XX--\n"
	c, _, err := Parse("user-data", []byte(msg))
	if err != nil || c.Hostname != "gzpart" {
		t.Fatalf("Parse(multipart with gzip part) = %+v, %v; want hostname gzpart", c, err)
	}
}

func TestIncludeFetch(t *testing.T) {
	docs := map[string]string{
		"http://x/a":    "#cloud-config\nhostname: a\nruncmd: [from-a]\n",
		"http://x/b":    "#include\nhttp://x/c\n",
		"http://x/c":    "#cloud-config\nruncmd: [from-c]\n",
		"http://x/loop": "#include\nhttp://x/loop\n",
		"http://x/bad":  "#cloud-config\nros: {ssh: {port: x}}\n",
	}
	var fetched []string
	fetch := func(ctx context.Context, url string) ([]byte, error) {
		fetched = append(fetched, url)
		d, ok := docs[url]
		if !ok {
			return nil, fmt.Errorf("404 %s", url)
		}
		return []byte(d), nil
	}
	c, _, err := Parse("user-data", []byte("#include\nhttp://x/a\nhttp://x/b\n"), WithFetch(context.Background(), fetch))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.Runcmd); c.Hostname != "a" || got != "[{from-a []} {from-c []}]" {
		t.Errorf("Parse(#include a b) = hostname %q, runcmd %s; want a, [from-a from-c]", c.Hostname, got)
	}
	if len(c.Includes) != 0 {
		t.Errorf("fetched includes are still listed: %v", c.Includes)
	}

	fetched = nil
	_, _, err = Parse("user-data", []byte("#include\nhttp://x/loop\n"), WithFetch(context.Background(), fetch), WithMaxDepth(3))
	if err == nil || !strings.Contains(err.Error(), "nested more than 3 deep") || len(fetched) != 3 {
		t.Errorf("Parse(include loop) = %v after %d fetches, want a depth error after 3", err, len(fetched))
	}

	_, _, err = Parse("user-data", []byte("#include\nhttp://x/missing\n"), WithFetch(context.Background(), fetch))
	if err == nil || !strings.Contains(err.Error(), "404 http://x/missing") {
		t.Errorf("Parse(include of a missing URL) = %v, want the fetch error", err)
	}

	_, _, err = Parse("user-data", []byte("#include\nhttp://x/bad\n"), WithFetch(context.Background(), fetch))
	if want := `http://x/bad:2: ros.ssh.port: expected an integer, got "x"`; err == nil || err.Error() != want {
		t.Errorf("Parse(include of bad config) = %v, want %s", err, want)
	}

	fetched = nil
	_, _, err = Parse("user-data", []byte("#include-once\nhttp://x/a\nhttp://x/a\n"), WithFetch(context.Background(), fetch))
	if err != nil || len(fetched) != 1 {
		t.Errorf("Parse(#include-once a a) fetched %v (err %v), want one fetch", fetched, err)
	}
}

func TestWarningsNameKeyAndLine(t *testing.T) {
	in := "#cloud-config\nhostname: a\nros:\n  sysctl: {}\n  enigne: docker\n"
	_, w, err := Parse("user-data", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `user-data:5: ros.enigne: unknown key, ignored (did you mean "engine"?)`
	if len(w) != 1 || w[0].String() != want || w[0].Line != 5 || w[0].Path != "ros.enigne" {
		t.Errorf("Parse warnings = %q, want [%s]", w.String(), want)
	}
}

func TestMultipartErrorNamesPart(t *testing.T) {
	msg := "Content-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/cloud-config\n\n#cloud-config\nwrite_files: [{path: /a}]\n" +
		"--XX\nContent-Type: text/cloud-config\nContent-Disposition: attachment; filename=\"two.yaml\"\n\n#cloud-config\nhostname: x\nwrite_files:\n  - path: rel\n--XX--\n"
	_, _, err := Parse("user-data", []byte(msg))
	want := `user-data part 2 (two.yaml):4: write_files[0].path: "rel" is not an absolute path`
	if err == nil || err.Error() != want {
		t.Errorf("Parse(multipart) = %v, want %s", err, want)
	}
}

func TestK3osTopLevelAliases(t *testing.T) {
	c, w, err := Parse("user-data", []byte("#cloud-config\nrun_cmd: [a]\nruncmd: [b]\nboot_cmd: [c]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.Runcmd, c.Bootcmd) != "[{b []}] [{c []}]" {
		t.Errorf("Parse = runcmd %v bootcmd %v, want [b] [c]", c.Runcmd, c.Bootcmd)
	}
	if want := "user-data:2: run_cmd: ignored: runcmd is given too (line 3)"; w.String() != want {
		t.Errorf("warnings = %q, want %q", w, want)
	}
}

// mergeBomb is a document whose merge keys nest: level i merges level i-1
// ten times, so the last level asks for 10^levels keys.
func mergeBomb(first string, levels int) string {
	var b strings.Builder
	b.WriteString("#cloud-config\nros:\n  network:\n    interfaces:\n      l0: &l0 " + first + "\n")
	for i := 1; i <= levels; i++ {
		refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 10), ", ")
		fmt.Fprintf(&b, "      l%d: &l%d {<<: [%s]}\n", i, i, refs)
	}
	return b.String()
}

// rootMergeBomb is mergeBomb at the document's root: level i is a top-level
// key merging level i-1 ten times, and the root merges the last level.
func rootMergeBomb(levels int) string {
	var b strings.Builder
	b.WriteString("#cloud-config\nl0: &l0 {hostname: bomb}\n")
	for i := 1; i <= levels; i++ {
		refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 10), ", ")
		fmt.Fprintf(&b, "l%d: &l%d {<<: [%s]}\n", i, i, refs)
	}
	fmt.Fprintf(&b, "<<: [%s]\n", strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", levels), 10), ", "))
	return b.String()
}

// Merge keys found by FuzzParseFetch: a mapping merged into itself overflowed
// the stack, and nested merges expanded without bound.
func TestParseMergeKeyLimits(t *testing.T) {
	c, _, err := Parse("user-data", []byte("#cloud-config\nros:\n  network:\n    interfaces:\n      base: &base\n        <<: *base\n        mtu: 9000\n"))
	if err != nil || c.ROS.Network.Interfaces["base"].MTU != 9000 {
		t.Errorf("Parse(mapping merged into itself) = %+v, %v; want mtu 9000", c, err)
	}
	_, _, err = Parse("user-data", []byte("#cloud-config\nros:\n  network:\n    interfaces: &a\n      x: {<<: *a}\n"))
	if err != nil && !errors.Is(err, ErrInvalid) {
		t.Errorf("Parse(mapping merged into its own value) = %v, want nil or ErrInvalid", err)
	}
	for _, tt := range []struct{ name, doc string }{
		{"empty mappings", mergeBomb("{}", 12)},
		{"keys", mergeBomb("{mtu: 1500}", 12)},
		{"root keys", rootMergeBomb(6)},
	} {
		_, _, err := Parse("user-data", []byte(tt.doc))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "document too large") {
			t.Errorf("Parse(merge bomb of %s) = %v, want a document too large error", tt.name, err)
		}
	}
}

// TestParseIncludeFanOut: every level of #include listing ten new URLs
// would fetch 10^depth documents; the total is capped.
func TestParseIncludeFanOut(t *testing.T) {
	fetches := 0
	fetch := func(_ context.Context, url string) ([]byte, error) {
		fetches++
		if strings.Count(url, "/") >= 6 { // within the depth limit
			return []byte("#cloud-config\nhostname: leaf\n"), nil
		}
		var b strings.Builder
		b.WriteString("#include\n")
		for i := range 10 {
			fmt.Fprintf(&b, "%s/%d\n", url, i)
		}
		return []byte(b.String()), nil
	}
	_, _, err := Parse("user-data", []byte("#include\nhttp://x/0\n"), WithFetch(context.Background(), fetch))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "URLs to fetch") {
		t.Errorf("Parse(fan-out) = %v, want ErrInvalid naming the fetch limit", err)
	}
	if fetches > MaxFetches {
		t.Errorf("Parse(fan-out) fetched %d documents, want at most %d", fetches, MaxFetches)
	}
}
