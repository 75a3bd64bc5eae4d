package cloudconfig

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/cmdline"
)

// Fuzz targets for user-data and the kernel command line, seeded from
// testdata and the table tests.

// seedUserData are the testdata files and the inputs of TestParseFormats
// and TestParseErrors-like cases: YAML, MIME multipart, gzip, #include and
// scripts.
func seedUserData(f *testing.F) [][]byte {
	f.Helper()
	var out [][]byte
	for _, in := range inputs(f) {
		data, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	yml := "#cloud-config\nhostname: zipped\n"
	out = append(out,
		[]byte("\xef\xbb\xbf#cloud-config\r\nhostname: crlf\r\n"),
		gz(f, yml),
		gz(f, string(gz(f, yml))),
		gz(f, "#!/bin/sh\ntrue\n"),
		[]byte("#include-once\nhttp://a/b\n"),
		[]byte("#include\nhttp://x/a\nhttp://x/b\n"),
		[]byte("Content-Type: text/cloud-config\n\nhostname: mime\n"),
		[]byte("Content-Type: text/x-shellscript\nContent-Transfer-Encoding: base64\n\nIyEvYmluL3NoCmVjaG8gaGkK\n"),
		[]byte("Content-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: application/gzip\n\n"+
			string(gz(f, "#cloud-config\nhostname: gzpart\n"))+"\n--XX--\n"),
		[]byte("Content-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/x-include-url\n\nhttp://x/a\nhttp://x/a\n--XX--\n"),
		[]byte("#cloud-config\nros: {network: {interfaces: {eth0: {mtu: big}}}}\n"),
		[]byte("#cloud-config\nros: {ssh: {port: x}}\n"),
	)
	return out
}

// checkExport asserts that an accepted config exports to YAML that Parse
// accepts again, unchanged and without warnings.
func checkExport(t *testing.T, c *Config, input []byte) {
	t.Helper()
	out, err := Export(c, true)
	if err != nil {
		t.Fatalf("Export of an accepted config: %v", err)
	}
	c2, w, err := Parse("export", out)
	if err != nil || len(w) > 0 {
		t.Fatalf("Parse(Export(c)) = %v, warnings %v\ninput: %q\nexport:\n%s", err, w, input, out)
	}
	out2, err := Export(c2, true)
	if err != nil || !bytes.Equal(out, out2) {
		t.Fatalf("Export is not stable (%v):\n%s\nthen\n%s", err, out, out2)
	}
}

// FuzzParse feeds Parse arbitrary user-data. Parse must not panic, its
// errors wrap ErrInvalid or ErrFormat, and a config it accepts must export
// to YAML that Parse accepts again, unchanged and without warnings.
func FuzzParse(f *testing.F) {
	for _, data := range seedUserData(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := Parse("fuzz", data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrFormat) {
				t.Fatalf("Parse() = %v, want an error wrapping ErrInvalid or ErrFormat", err)
			}
			return
		}
		checkExport(t, c, data)
	})
}

// maxFetches bounds the fetches FuzzParseFetch allows one Parse: user-data
// that makes a few hundred bytes fan out into thousands of requests is a
// denial of service on the datasource.
const maxFetches = 1000

// FuzzParseFetch parses user-data with #include URLs fetched: every URL
// returns the second input (a URL ending in /missing fails). Besides the
// FuzzParse properties, nesting must stay bounded (an include of itself
// ends with an error), the number of fetches stays bounded, and a config
// read with a fetcher lists no Includes.
func FuzzParseFetch(f *testing.F) {
	seeds := seedUserData(f)
	for i, data := range seeds {
		f.Add(data, seeds[(i+1)%len(seeds)])
	}
	f.Add([]byte("#include\nhttp://x/loop\n"), []byte("#include\nhttp://x/loop\n"))
	f.Add([]byte("#include\nhttp://x/missing\n"), []byte("#cloud-config\n"))
	f.Add([]byte("#include-once\nhttp://x/a\nhttp://x/a\n"), []byte("#cloud-config\nhostname: a\nruncmd: [from-a]\n"))
	f.Fuzz(func(t *testing.T, data, fetched []byte) {
		n := 0
		fetch := func(ctx context.Context, url string) ([]byte, error) {
			n++
			if n > maxFetches {
				t.Fatalf("Parse made more than %d fetches\ninput: %q\nfetched: %q", maxFetches, data, fetched)
			}
			if strings.HasSuffix(url, "/missing") {
				return nil, errors.New("404")
			}
			return fetched, nil
		}
		c, _, err := Parse("fuzz", data, WithFetch(context.Background(), fetch))
		if err != nil {
			return
		}
		if len(c.Includes) > 0 {
			t.Fatalf("Parse with a fetcher left Includes %v", c.Includes)
		}
		checkExport(t, c, data)
	})
}

// FuzzFromCmdline reads a kernel command line as configuration. It must
// not panic; on success the config exports to YAML that Parse reads back
// unchanged, and user-data is present only when ros.config.b64 (or
// rancher.config.b64) was given.
func FuzzFromCmdline(f *testing.F) {
	for _, s := range []string{
		"quiet ros.network.dns.nameservers=[1.1.1.1,8.8.8.8] ros.hostname=box console=ttyS0",
		"rancher.network.dns.nameservers=[9.9.9.9] rancher.ssh.port=2200",
		"k3os.ntp_servers=[ntp.lan] k3os.modules=[kvm]",
		"ros.sysctl.net.ipv4.ip_forward=1 rancher.sysctl.vm.swappiness=10",
		"ros.network.interfaces.eth0.dhcp=false ros.network.interfaces.eth0.mtu=9000 ros.network.interfaces.eth1.addresses=[10.0.0.2/24]",
		"ros.network.interfaces.eth0.dhcp",
		`"ros.engine={name: docker, args: [--debug]}"`,
		"ros.hostname=a ros.hostname=b",
		`ros.environment.GREETING="hello world"`,
		"ros.slot=A ros.live ros.debug ros.rootwait=5 root=/dev/sda",
		"ros.config.url=http://10.0.2.2/ud ros.config.b64=I2Nsb3VkLWNvbmZpZwpob3N0bmFtZTogYjY0Cg==",
		"rancher.config.url=http://x/y ros.config.b64=I2Nsb3VkLWNvbmZpZwpob3N0bmFtZTogYjY0Cg",
		"ros.network.interfaces.eth0.mtu=big",
		"ros.config.b64=%%%",
		"ros.hostname=bad_name",
		"ros.network.dns.nameservers=[x]",
		"ros.nosuch=1 ros.hostname.x=2 ros.ros.hostname=3 rancher.console=ubuntu ros.network.bogus=1 ros.hostname=ok",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		params := cmdline.Parse(line).Params()
		kc, _, err := FromCmdline(params)
		if err != nil {
			if kc != nil {
				t.Fatalf("FromCmdline(%q) = %+v with error %v, want nil", line, kc, err)
			}
			return
		}
		if kc == nil || kc.Config == nil {
			t.Fatalf("FromCmdline(%q) = %+v, nil error; want a config", line, kc)
		}
		if len(kc.UserData) > 0 && !strings.Contains(line, "config.b64") {
			t.Fatalf("FromCmdline(%q) found user-data without config.b64", line)
		}
		checkExport(t, kc.Config, []byte(line))
	})
}
