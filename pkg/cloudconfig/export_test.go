package cloudconfig

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// fillSecrets sets every secret field reachable from v to a marker naming
// it, creating one entry in each list and map on the way, and returns the
// markers.
func fillSecrets(v reflect.Value, where string) []string {
	var marks []string
	switch v.Kind() {
	case reflect.Struct:
		if v.Type().PkgPath() != reflect.TypeFor[Config]().PkgPath() {
			return nil
		}
		for _, f := range fieldsOfAll(v.Type()) {
			fv := v.Field(f.index)
			name := where + "." + v.Type().Field(f.index).Name
			switch f.secret {
			case "true":
				m := "SECRET" + strings.ReplaceAll(name, ".", "_")
				fv.SetString(m)
				marks = append(marks, m)
			case "url":
				m := "SECRETURL" + strings.ReplaceAll(name, ".", "_")
				fv.SetString("http://user:" + m + "@proxy.lan:3128")
				marks = append(marks, m)
			default:
				marks = append(marks, fillSecrets(fv, name)...)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Struct {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			marks = append(marks, fillSecrets(v.Index(0), where)...)
		}
	case reflect.Map:
		if v.Type().Elem().Kind() == reflect.Struct {
			e := reflect.New(v.Type().Elem()).Elem()
			marks = append(marks, fillSecrets(e, where)...)
			v.Set(reflect.MakeMap(v.Type()))
			v.SetMapIndex(reflect.ValueOf("x").Convert(v.Type().Key()), e)
		}
	}
	return marks
}

func TestExportRedactsEverySecret(t *testing.T) {
	c := &Config{}
	marks := fillSecrets(reflect.ValueOf(c).Elem(), "Config")
	if len(marks) < 6 { // 3 user passwords, a private host key, 2 proxies, the upgrade URL
		t.Fatalf("found %d secret fields (%v), want at least 6", len(marks), marks)
	}
	out, err := Export(c, false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "SECRET") {
		t.Errorf("Export(c, false) leaks a secret:\n%s", out)
	}
	if n := strings.Count(string(out), "redacted"); n != len(marks) {
		t.Errorf("Export(c, false) has %d redactions, want %d:\n%s", n, len(marks), out)
	}
	private, err := Export(c, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range marks {
		if !strings.Contains(string(private), m) {
			t.Errorf("Export(c, true) lacks %s", m)
		}
	}
	if c.Users[0].Passwd == Redacted {
		t.Error("Export changed its argument")
	}
}

func TestExportRedactsParsedHostKey(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	pemText := string(pem.EncodeToMemory(block))
	signer, _ := ssh.NewSignerFromKey(priv)
	pub := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	body := strings.Split(pemText, "\n")[1] // a line of the key itself
	in := fmt.Sprintf("#cloud-config\nusers:\n  - name: bob\n    plain_text_passwd: hunter2-plain\n    passwd: $6$hash-of-hunter2\n"+
		"ros:\n  ssh:\n    host_keys:\n      - type: ed25519\n        public: %s\n        private: |\n          %s\n",
		pub, strings.ReplaceAll(strings.TrimSpace(pemText), "\n", "\n          "))
	c, _, err := Parse("user-data", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Export(c, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{body, "hunter2", "OPENSSH PRIVATE KEY"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("Export(c, false) contains %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(string(out), pub) {
		t.Errorf("Export(c, false) lost the public key:\n%s", out)
	}
	private, _ := Export(c, true)
	if !strings.Contains(string(private), body) {
		t.Errorf("Export(c, true) lost the private key:\n%s", private)
	}
}

func TestExportEmpty(t *testing.T) {
	for _, c := range []*Config{nil, {}} {
		out, err := Export(c, false)
		if err != nil || string(out) != "#cloud-config\n" {
			t.Errorf("Export(%v) = %q, %v; want the header alone", c, out, err)
		}
	}
}
