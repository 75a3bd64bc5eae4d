package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/api/apitest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func testFake() *apitest.Fake {
	return &apitest.Fake{
		SystemInfo: api.System{Version: "v1.2.3", Hostname: "box", Uptime: time.Hour, BootedAt: t0},
		ServiceList: []api.ServiceDetail{
			{
				Service: api.Service{Name: "sshd", Image: "ros/sshd:1", Origin: api.OriginImage, Enabled: true,
					State: api.StateRunning, PID: 412, Restarts: 1, Since: t0, Health: "healthy", HealthOutput: "ok"},
				LogPath: "/var/log/ros/sshd.log",
				Spec:    json.RawMessage(`{"ociVersion":"1.2.0","process":{"args":["/usr/sbin/sshd","-D","-e"]}}`),
			},
			{
				Service: api.Service{Name: "ntpd", Image: "ros/openntpd:1", Origin: api.OriginImage, Enabled: true,
					State: api.StateWaiting, Restarts: 3, Since: t0.Add(50 * time.Minute), LastError: "exit status 1"},
			},
			{Service: api.Service{Name: "web", Image: "nginx:1", Origin: api.OriginAdded, Enabled: false, State: api.StateDisabled}},
		},
		LogText:      map[string]string{"sshd": "one\ntwo\nthree\n"},
		ConfigYAML:   []byte("hostname: box\nssh_authorized_keys:\n  - ssh-ed25519 AAAA k\n"),
		PrivateYAML:  []byte("hostname: box\nros:\n  ssh:\n    host_keys: secret\n"),
		ConfigValues: map[string]any{"hostname": "box", "ros.network.dns.nameservers": []any{"1.1.1.1", "9.9.9.9"}, "ros.ssh.port": 22.0, "ros.console": nil},
		Apply:        api.ApplyResult{Applied: []string{"hostname"}, NeedsReboot: []string{"ros.ssh.port"}, Warnings: []string{"unknown key foo"}},
		Validation:   api.Validation{Source: "nocloud", Valid: true, Warnings: []string{"line 4: unknown key foo"}},
		History: []api.ConfigRecord{
			{ID: 2, Time: t0.Add(time.Hour), Source: "ros config set", Status: "applied"},
			{ID: 1, Time: t0, Source: "nocloud", Status: "rejected", Error: "line 2: hostname: want a string", Warnings: []string{"w"}},
		},
		EventList: []api.Event{
			{ID: 1, Time: t0, Kind: "service", Subject: "sshd", Message: "started"},
			{ID: 2, Time: t0.Add(time.Second), Kind: "config", Subject: "nocloud", Message: "applied"},
			{ID: 3, Time: t0.Add(2 * time.Second), Kind: "service", Subject: "ntpd", Message: "exited: exit status 1"},
		},
		EngineList: []api.Engine{{Name: "docker", Description: "Docker Engine", Current: true, State: "running"}, {Name: "none", Description: "no user containers"}},
	}
}

// runAPI runs args (args[0] is the program name) against f served on a
// socket, at t0+1h in UTC.
func runAPI(t *testing.T, f *apitest.Fake, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	env := &apiEnv{
		socket: apitest.Serve(t, f),
		now:    func() time.Time { return t0.Add(time.Hour) },
		loc:    time.UTC,
		stdin:  strings.NewReader(stdin),
	}
	var out, errb bytes.Buffer
	code = runEnv(context.Background(), env, args, &out, &errb)
	return code, out.String(), errb.String()
}

type cliCase struct {
	name  string
	args  []string
	stdin string
	code  int
	out   string   // exact stdout
	err   string   // substring of stderr ("" : stderr must be empty)
	calls []string // calls the backend saw (nil: not checked)
}

func checkCLI(t *testing.T, tests []cliCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := testFake()
			code, out, errs := runAPI(t, f, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("%q exit code = %d, want %d (stderr %q)", tt.args, code, tt.code, errs)
			}
			if d := cmp.Diff(tt.out, out); d != "" {
				t.Errorf("%q stdout differs (-want +got):\n%s", tt.args, d)
			}
			if (tt.err == "" && errs != "") || !strings.Contains(errs, tt.err) {
				t.Errorf("%q stderr = %q, want %q", tt.args, errs, tt.err)
			}
			if tt.calls != nil {
				if d := cmp.Diff(tt.calls, f.CallLog(), cmpopts.EquateEmpty()); d != "" {
					t.Errorf("%q backend calls differ (-want +got):\n%s", tt.args, d)
				}
			}
		})
	}
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }

func TestServiceCommands(t *testing.T) {
	checkCLI(t, []cliCase{
		{name: "list", args: []string{"ros", "service", "list"}, out: lines(
			"NAME   STATE      ENABLED   ORIGIN   IMAGE",
			"sshd   running    yes       image    ros/sshd:1",
			"ntpd   waiting    yes       image    ros/openntpd:1",
			"web    disabled   no        added    nginx:1",
		), calls: []string{"Services"}},
		{name: "ps", args: []string{"ros", "service", "ps"}, out: lines(
			"NAME   STATE     PID   RESTARTS   CHANGED             HEALTH    LAST ERROR",
			"sshd   running   412   1          About an hour ago   healthy   -",
			"ntpd   waiting   -     3          10 minutes ago      -         exit status 1",
		)},
		{name: "ps -a", args: []string{"ros", "service", "ps", "-a"}, out: lines(
			"NAME   STATE      PID   RESTARTS   CHANGED             HEALTH    LAST ERROR",
			"sshd   running    412   1          About an hour ago   healthy   -",
			"ntpd   waiting    -     3          10 minutes ago      -         exit status 1",
			"web    disabled   -     0          -                   -         -",
		)},
		{name: "inspect", args: []string{"ros", "service", "inspect", "sshd"}, out: lines(
			"Name:            sshd",
			"Image:           ros/sshd:1",
			"Origin:          image",
			"Enabled:         yes",
			"State:           running",
			"PID:             412",
			"Restarts:        1",
			"Since:           2025-03-01 12:00:00",
			"Health:          healthy",
			"Health output:   ok",
			"Last error:      -",
			"Log:             /var/log/ros/sshd.log",
			"Command:         /usr/sbin/sshd -D -e",
		), calls: []string{"Service sshd"}},
		{name: "inspect missing", args: []string{"ros", "service", "inspect", "nope"}, code: 1, err: `ros: service "nope": not found`},
		{name: "start", args: []string{"ros", "service", "start", "web"}, out: "started web\n", calls: []string{"ServiceAction web start"}},
		{name: "stop two", args: []string{"ros", "service", "stop", "sshd", "ntpd"}, out: "stopped sshd\nstopped ntpd\n",
			calls: []string{"ServiceAction sshd stop", "ServiceAction ntpd stop"}},
		{name: "restart", args: []string{"ros", "service", "restart", "sshd"}, out: "restarted sshd\n", calls: []string{"ServiceAction sshd restart"}},
		{name: "enable", args: []string{"ros", "service", "enable", "web"}, out: "enabled web\n", calls: []string{"ServiceAction web enable"}},
		{name: "disable", args: []string{"ros", "service", "disable", "sshd"}, out: "disabled sshd\n", calls: []string{"ServiceAction sshd disable"}},
		{name: "start one missing", args: []string{"ros", "service", "start", "nope", "web"}, code: 1, out: "started web\n",
			err: `ros: start nope: service "nope": not found`},
		{name: "start no name", args: []string{"ros", "service", "start"}, code: 1, err: "requires at least 1 arg"},
		{name: "logs", args: []string{"ros", "service", "logs", "sshd"}, out: "one\ntwo\nthree\n", calls: []string{"Logs sshd 0 false"}},
		{name: "logs --lines", args: []string{"ros", "service", "logs", "--lines", "2", "sshd"}, out: "two\nthree\n", calls: []string{"Logs sshd 2 false"}},
		{name: "logs missing", args: []string{"ros", "service", "logs", "nope"}, code: 1, err: "not found"},
		{name: "add", args: []string{"ros", "service", "add", "-"}, stdin: "name: db\nimage: postgres:16\n", out: "added db (running)\n",
			calls: []string{`AddService "name: db\nimage: postgres:16\n" `}},
		{name: "add archive", args: []string{"ros", "service", "add", "-", "--archive", "/var/tmp/db.tar", "-o", "json"}, stdin: "name: db\n",
			out:   lines("{", `  "name": "db",`, `  "image": "",`, `  "origin": "added",`, `  "enabled": true,`, `  "state": "running",`, `  "restarts": 0`, "}"),
			calls: []string{`AddService "name: db\n" /var/tmp/db.tar`}},
		{name: "add exists", args: []string{"ros", "service", "add", "-"}, stdin: "name: sshd\n", code: 1, err: `ros: service "sshd": conflict`},
		{name: "add no file", args: []string{"ros", "service", "add", "/nonexistent/x.yml"}, code: 1, err: "read /nonexistent/x.yml", calls: []string{}},
		{name: "rm", args: []string{"ros", "service", "rm", "web"}, out: "removed web\n", calls: []string{"RemoveService web"}},
		{name: "rm image service", args: []string{"ros", "service", "rm", "sshd"}, code: 1, err: "part of the image"},
		{name: "bad -o", args: []string{"ros", "service", "list", "-o", "xml"}, code: 1, err: "-o xml: unknown output format, want table or json", calls: []string{}},
	})
}

func TestConfigCommands(t *testing.T) {
	checkCLI(t, []cliCase{
		{name: "get string", args: []string{"ros", "config", "get", "hostname"}, out: "box\n", calls: []string{"ConfigGet hostname"}},
		{name: "get number", args: []string{"ros", "config", "get", "ros.ssh.port"}, out: "22\n"},
		{name: "get null", args: []string{"ros", "config", "get", "ros.console"}, out: ""},
		{name: "get list", args: []string{"ros", "config", "get", "ros.network.dns.nameservers"}, out: "- 1.1.1.1\n- 9.9.9.9\n"},
		{name: "get json", args: []string{"ros", "config", "get", "ros.network.dns.nameservers", "-o", "json"}, out: lines("[", `  "1.1.1.1",`, `  "9.9.9.9"`, "]")},
		{name: "get string json", args: []string{"ros", "config", "get", "hostname", "-o", "json"}, out: "\"box\"\n"},
		{name: "get missing", args: []string{"ros", "config", "get", "nope"}, code: 1, err: "ros: key nope: not found"},
		{name: "set", args: []string{"ros", "config", "set", "hostname", "web1"},
			out: "applied: hostname\nneeds reboot: ros.ssh.port\n", err: "warning: unknown key foo",
			calls: []string{`ConfigSet hostname "web1"`}},
		{name: "set json", args: []string{"ros", "config", "set", "-o", "json", "hostname", "web1"}, out: lines(
			"{", `  "applied": [`, `    "hostname"`, "  ],", `  "needs_reboot": [`, `    "ros.ssh.port"`, "  ],",
			`  "warnings": [`, `    "unknown key foo"`, "  ]", "}")},
		{name: "merge stdin", args: []string{"ros", "config", "merge", "-"}, stdin: "#cloud-config\nhostname: a\n",
			out: "applied: hostname\nneeds reboot: ros.ssh.port\n", err: "warning: unknown key foo",
			calls: []string{`ConfigMerge "#cloud-config\nhostname: a\n"`}},
		{name: "export", args: []string{"ros", "config", "export"}, out: "hostname: box\nssh_authorized_keys:\n  - ssh-ed25519 AAAA k\n", calls: []string{"Config false"}},
		{name: "export private", args: []string{"ros", "config", "export", "--private"}, out: "hostname: box\nros:\n  ssh:\n    host_keys: secret\n", calls: []string{"Config true"}},
		{name: "export json", args: []string{"ros", "config", "export", "-o", "json"}, out: lines(
			"{", `  "hostname": "box",`, `  "ssh_authorized_keys": [`, `    "ssh-ed25519 AAAA k"`, "  ]", "}")},
		{name: "validate booted", args: []string{"ros", "config", "validate"}, out: "nocloud: valid\n  warning: line 4: unknown key foo\n", calls: []string{`ConfigValidate ""`}},
		{name: "validate stdin", args: []string{"ros", "config", "validate", "-"}, stdin: "hostname: x\n", out: "nocloud: valid\n  warning: line 4: unknown key foo\n",
			calls: []string{`ConfigValidate "hostname: x\n"`}},
		{name: "history", args: []string{"ros", "config", "history"}, out: lines(
			"ID   TIME                  SOURCE           STATUS     DETAIL",
			"2    2025-03-01 13:00:00   ros config set   applied    -",
			"1    2025-03-01 12:00:00   nocloud          rejected   line 2: hostname: want a string; 1 warning",
		), calls: []string{"ConfigHistory 0"}},
		{name: "history limit json", args: []string{"ros", "config", "history", "--limit", "1", "-o", "json"}, out: lines(
			"[", "  {", `    "id": 2,`, `    "time": "2025-03-01T13:00:00Z",`, `    "source": "ros config set",`, `    "status": "applied"`, "  }", "]",
		), calls: []string{"ConfigHistory 1"}},
	})
}

func TestConfigValidateInvalid(t *testing.T) {
	f := testFake()
	f.Validation = api.Validation{Source: "stdin", Errors: []string{"line 1: hostname: want a string"}}
	code, out, errs := runAPI(t, f, "hostname: [1]\n", "ros", "config", "validate", "-")
	if code != 1 || out != "stdin: invalid\n  error: line 1: hostname: want a string\n" || errs != "" {
		t.Errorf("config validate (invalid) = %d, %q, %q; want 1, the errors, no stderr", code, out, errs)
	}
	code, out, _ = runAPI(t, f, "hostname: [1]\n", "ros", "config", "validate", "-", "-o", "json")
	var v api.Validation
	if code != 1 || json.Unmarshal([]byte(out), &v) != nil || v.Valid || len(v.Errors) != 1 {
		t.Errorf("config validate -o json (invalid) = %d, %q; want 1 and the verdict as JSON", code, out)
	}
}

func TestEventsAndEngine(t *testing.T) {
	checkCLI(t, []cliCase{
		{name: "events", args: []string{"ros", "events"}, out: lines(
			"ID   TIME                  KIND      SUBJECT   MESSAGE",
			"1    2025-03-01 12:00:00   service   sshd      started",
			"2    2025-03-01 12:00:01   config    nocloud   applied",
			"3    2025-03-01 12:00:02   service   ntpd      exited: exit status 1",
		), calls: []string{"Events 0 0"}},
		{name: "events since limit", args: []string{"ros", "events", "--since", "1", "--limit", "1"}, out: lines(
			"ID   TIME                  KIND     SUBJECT   MESSAGE",
			"2    2025-03-01 12:00:01   config   nocloud   applied",
		), calls: []string{"Events 1 1"}},
		{name: "events none json", args: []string{"ros", "events", "--since", "9", "-o", "json"}, out: "[]\n"},
		{name: "engine list", args: []string{"ros", "engine", "list"}, out: lines(
			"NAME     CURRENT   STATE     DESCRIPTION",
			"docker   *         running   Docker Engine",
			"none               -         no user containers",
		), calls: []string{"Engines"}},
		{name: "engine list json", args: []string{"ros", "engine", "list", "-o", "json"}, out: lines(
			"[", "  {", `    "name": "docker",`, `    "description": "Docker Engine",`, `    "current": true,`, `    "state": "running"`, "  },",
			"  {", `    "name": "none",`, `    "description": "no user containers",`, `    "current": false,`, `    "state": ""`, "  }", "]")},
		{name: "engine switch", args: []string{"ros", "engine", "switch", "none"}, out: "applied: hostname\nneeds reboot: ros.ssh.port\n",
			err: "warning: unknown key foo", calls: []string{"SwitchEngine none"}},
		{name: "engine switch unknown", args: []string{"ros", "engine", "switch", "podman"}, code: 1, err: `ros: engine "podman": not found`},
	})
}

func TestSystemDocker(t *testing.T) {
	inspect, _ := json.MarshalIndent([]api.ServiceDetail{testFake().ServiceList[0]}, "", "  ")
	checkCLI(t, []cliCase{
		{name: "ps", args: []string{"/usr/bin/system-docker", "ps"}, out: lines(
			"CONTAINER ID   IMAGE            COMMAND                  STATUS                          NAMES",
			"sshd           ros/sshd:1       \"/usr/sbin/sshd -D -e\"   Up About an hour (healthy)      sshd",
			"ntpd           ros/openntpd:1   \"\"                       Restarting (3) 10 minutes ago   ntpd",
		)},
		{name: "ps -a", args: []string{"system-docker", "ps", "-a"}, out: lines(
			"CONTAINER ID   IMAGE            COMMAND                  STATUS                          NAMES",
			"sshd           ros/sshd:1       \"/usr/sbin/sshd -D -e\"   Up About an hour (healthy)      sshd",
			"ntpd           ros/openntpd:1   \"\"                       Restarting (3) 10 minutes ago   ntpd",
			"web            nginx:1          \"\"                       Disabled                        web",
		)},
		{name: "ps -q", args: []string{"system-docker", "ps", "-q"}, out: "sshd\nntpd\n", calls: []string{"Services"}},
		{name: "logs", args: []string{"system-docker", "logs", "sshd"}, out: "one\ntwo\nthree\n", calls: []string{"Logs sshd 0 false"}},
		{name: "logs --tail", args: []string{"system-docker", "logs", "--tail", "1", "sshd"}, out: "three\n", calls: []string{"Logs sshd 1 false"}},
		{name: "logs --tail bad", args: []string{"system-docker", "logs", "--tail", "x", "sshd"}, code: 1, err: `system-docker: --tail "x": want a number or all`},
		{name: "exec", args: []string{"system-docker", "exec", "sshd", "ls", "-l", "/"}, out: "ls -l /\n", calls: []string{`Exec sshd ["ls" "-l" "/"]`}},
		{name: "exec missing", args: []string{"system-docker", "exec", "nope", "true"}, code: 1, err: `system-docker: service "nope": not found`},
		{name: "exec -t", args: []string{"system-docker", "exec", "-t", "sshd", "sh"}, code: 1, err: "no terminal support"},
		{name: "restart", args: []string{"system-docker", "restart", "sshd", "ntpd"}, out: "sshd\nntpd\n",
			calls: []string{"ServiceAction sshd restart", "ServiceAction ntpd restart"}},
		{name: "stop", args: []string{"system-docker", "stop", "sshd"}, out: "sshd\n", calls: []string{"ServiceAction sshd stop"}},
		{name: "start", args: []string{"system-docker", "start", "web"}, out: "web\n", calls: []string{"ServiceAction web start"}},
		{name: "inspect", args: []string{"system-docker", "inspect", "sshd"}, out: string(inspect) + "\n", calls: []string{"Service sshd"}},
		{name: "inspect missing", args: []string{"system-docker", "inspect", "sshd", "nope"}, code: 1, out: string(inspect) + "\n",
			err: "system-docker: no such object: nope"},
		{name: "as ros subcommand", args: []string{"ros", "system-docker", "ps", "-q"}, out: "sshd\nntpd\n"},
	})
}

// TestSystemDockerExecExitCode checks exec's exit code becomes ours, with
// stdin and environment passed along.
func TestSystemDockerExecExitCode(t *testing.T) {
	f := testFake()
	f.ExecFunc = func(name string, req api.ExecRequest, w io.Writer) (int, error) {
		fmt.Fprintf(w, "%s %v %v %q\n", name, req.Args, req.Env, req.Stdin)
		return 42, nil
	}
	code, out, errs := runAPI(t, f, "input", "system-docker", "exec", "-i", "-e", "A=1", "sshd", "sh", "-c", "exit 42")
	if code != 42 || out != "sshd [sh -c exit 42] [A=1] \"input\"\n" || errs != "" {
		t.Errorf("system-docker exec = %d, %q, %q; want 42, the output, no stderr", code, out, errs)
	}
}

// TestFollow follows a log until interrupted: an interrupt is a clean end.
func TestFollow(t *testing.T) {
	f := testFake()
	f.Follow = make(chan string)
	env := &apiEnv{socket: apitest.Serve(t, f), now: time.Now, loc: time.UTC}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var errb bytes.Buffer
	go func() {
		done <- runEnv(ctx, env, []string{"system-docker", "logs", "-f", "--tail", "1", "sshd"}, pw, &errb)
		pw.Close()
	}()
	r := bufio.NewReader(pr)
	for _, want := range []string{"three\n", "four\n"} {
		if want == "four\n" {
			f.Follow <- want
		}
		got, err := r.ReadString('\n')
		if got != want || err != nil {
			t.Fatalf("followed log line = %q, %v; want %q", got, err, want)
		}
	}
	cancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }() // drain what is left; ends at pw.Close
	if code := <-done; code != 0 || errb.Len() != 0 {
		t.Errorf("logs -f after interrupt = %d, %q; want 0 and no error", code, errb.String())
	}
}

// TestUnreachableMessage checks the message when rosd cannot be reached.
func TestUnreachableMessage(t *testing.T) {
	dir := t.TempDir()
	env := &apiEnv{socket: dir + "/ros.sock", now: time.Now, loc: time.UTC}
	var out, errb bytes.Buffer
	code := runEnv(context.Background(), env, []string{"ros", "service", "list"}, &out, &errb)
	want := "ros: cannot reach rosd at " + dir + "/ros.sock: no such file or directory (is rosd running?)\n"
	if code != 1 || errb.String() != want {
		t.Errorf("service list without rosd = %d, %q; want 1, %q", code, errb.String(), want)
	}
	// A socket we may not connect to.
	if os.Getuid() == 0 {
		return // root connects whatever the mode
	}
	sock := apitest.Serve(t, testFake())
	if err := os.Chmod(sock, 0); err != nil {
		t.Fatal(err)
	}
	env.socket = sock
	errb.Reset()
	code = runEnv(context.Background(), env, []string{"ros", "service", "list"}, &out, &errb)
	want = "ros: cannot reach rosd at " + sock + ": permission denied (are you root or in group ros?)\n"
	if code != 1 || errb.String() != want {
		t.Errorf("service list on a closed socket = %d, %q; want 1, %q", code, errb.String(), want)
	}
}

// TestSocketFlagAndEnv checks --socket beats ROS_SOCKET, which beats the
// default.
func TestSocketFlagAndEnv(t *testing.T) {
	t.Setenv("ROS_SOCKET", "/from/env.sock")
	if got := defaultAPIEnv().socket; got != "/from/env.sock" {
		t.Errorf("socket with ROS_SOCKET set = %q, want /from/env.sock", got)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"ros", "service", "list"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "cannot reach rosd at /from/env.sock") {
		t.Errorf("service list with ROS_SOCKET = %d, %q; want it to dial /from/env.sock", code, errb.String())
	}
	sock := apitest.Serve(t, testFake())
	out.Reset()
	errb.Reset()
	code = run(context.Background(), []string{"ros", "service", "list", "--socket", sock}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "sshd") {
		t.Errorf("service list --socket %s = %d, %q, %q; want the list", sock, code, out.String(), errb.String())
	}
	t.Setenv("ROS_SOCKET", "")
	if got := defaultAPIEnv().socket; got != api.DefaultSocket {
		t.Errorf("default socket = %q, want %q", got, api.DefaultSocket)
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "Less than a second"},
		{time.Second, "1 second"},
		{45 * time.Second, "45 seconds"},
		{90 * time.Second, "About a minute"},
		{5 * time.Minute, "5 minutes"},
		{59 * time.Minute, "59 minutes"},
		{70 * time.Minute, "About an hour"},
		{5 * time.Hour, "5 hours"},
		{72 * time.Hour, "3 days"},
		{21 * 24 * time.Hour, "3 weeks"},
		{90 * 24 * time.Hour, "3 months"},
		{3 * 365 * 24 * time.Hour, "3 years"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
