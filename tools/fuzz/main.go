// Command fuzz runs every Go fuzz target of the module, one after another,
// and prints a table of what each did: executions, new corpus entries and
// the result. It backs `make fuzz`.
//
//	go run ./tools/fuzz                      # every target, 2m each
//	go run ./tools/fuzz -time 30s -run Parse # targets matching Parse
//	go run ./tools/fuzz -list                # only list the targets
//
// Targets are found with `go test -list '^Fuzz'` and run with
// `go test -run '^$' -fuzz '^NAME$' -fuzztime TIME -parallel N -v PKG`.
// A crasher is written by go test to the package's testdata/fuzz/NAME/;
// new corpus entries go to the Go build cache. The exit status is 1 when a
// target failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

type options struct {
	fuzzTime     time.Duration
	minimizeTime time.Duration
	parallel     int
	match        *regexp.Regexp
	list         bool
	markdown     bool
	verbose      bool
	pkgs         []string
}

func main() {
	var o options
	run := flag.String("run", "", "run only targets whose package/name matches this regexp")
	flag.DurationVar(&o.fuzzTime, "time", 2*time.Minute, "how long to fuzz each target")
	flag.DurationVar(&o.minimizeTime, "minimize", 10*time.Second, "time limit for minimizing each new input or crasher (go test -fuzzminimizetime)")
	flag.IntVar(&o.parallel, "parallel", 1, "fuzzing processes per target (go test -parallel)")
	flag.BoolVar(&o.list, "list", false, "list the targets and exit")
	flag.BoolVar(&o.markdown, "md", false, "print the table as Markdown")
	flag.BoolVar(&o.verbose, "v", false, "copy go test's output to standard error")
	flag.Parse()
	o.pkgs = flag.Args()
	if len(o.pkgs) == 0 {
		o.pkgs = []string{"./..."}
	}
	var err error
	if o.match, err = regexp.Compile(*run); err != nil {
		fmt.Fprintln(os.Stderr, "fuzz: -run:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := runAll(ctx, o, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuzz:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// runAll lists the targets and fuzzes them in turn; it reports whether all
// passed.
func runAll(ctx context.Context, o options, stdout, stderr io.Writer) (bool, error) {
	targets, err := listTargets(ctx, o.pkgs)
	if err != nil {
		return false, err
	}
	var chosen []target
	for _, t := range targets {
		if o.match.MatchString(t.pkg + "/" + t.name) {
			chosen = append(chosen, t)
		}
	}
	if o.list {
		for _, t := range chosen {
			fmt.Fprintf(stdout, "%s\t%s\n", t.pkg, t.name)
		}
		return true, nil
	}
	if len(chosen) == 0 {
		return false, fmt.Errorf("no fuzz targets in %s match %q", strings.Join(o.pkgs, " "), o.match)
	}
	fmt.Fprintf(stderr, "fuzzing %d targets for %s each\n", len(chosen), o.fuzzTime)
	var results []result
	allOK := true
	for i, t := range chosen {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(stderr, "[%d/%d] %s %s ... ", i+1, len(chosen), short(t.pkg), t.name)
		r := fuzz(ctx, o, t, stderr)
		fmt.Fprintf(stderr, "%s, %d execs, %d new\n", r.status, r.execs, r.newEntries)
		if r.status == statusFail {
			allOK = false
			fmt.Fprintf(stderr, "%s\n", tail(r.output, 40))
		}
		results = append(results, r)
	}
	if o.markdown {
		writeMarkdown(stdout, results)
	} else {
		writeTable(stdout, results)
	}
	if ctx.Err() != nil {
		return false, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return allOK, nil
}

type target struct {
	pkg  string // import path
	name string // FuzzX
}

const (
	statusOK   = "ok"
	statusFail = "FAIL"
	// statusDeadline is a run that found nothing but that go test failed
	// with its own deadline (go.dev/issue/75804): not a failure of the target.
	statusDeadline = "ok (go.dev/issue/75804)"
)

type result struct {
	target
	execs      int64
	newEntries int64
	elapsed    time.Duration
	status     string // statusOK, statusFail, statusDeadline
	crasher    string // testdata/fuzz/... when go test wrote one
	output     string
}

// listTargets runs `go test -list '^Fuzz'` on pkgs.
func listTargets(ctx context.Context, pkgs []string) ([]target, error) {
	args := append([]string{"test", "-list", "^Fuzz"}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return parseList(string(out))
}

// fuzz runs one target.
func fuzz(ctx context.Context, o options, t target, stderr io.Writer) result {
	args := []string{"test", "-run", "^$", "-fuzz", "^" + t.name + "$",
		"-fuzztime", o.fuzzTime.String(), "-fuzzminimizetime", o.minimizeTime.String(),
		"-parallel", fmt.Sprint(o.parallel), "-v", t.pkg}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	var out strings.Builder
	var w io.Writer = &out
	if o.verbose {
		w = io.MultiWriter(&out, stderr)
	}
	cmd.Stdout, cmd.Stderr = w, w
	start := time.Now()
	err := cmd.Run()
	r := parseFuzzOutput(out.String())
	r.target = t
	r.elapsed = time.Since(start)
	r.output = out.String()
	switch {
	case err == nil:
		r.status = statusOK
	case ctx.Err() == nil && deadlineRace(r.output):
		r.status = statusDeadline
	default:
		r.status = statusFail
	}
	return r
}

func writeTable(w io.Writer, results []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PACKAGE\tTARGET\tEXECS\tNEW\tTIME\tRESULT")
	var total int64
	for _, r := range results {
		total += r.execs
		res := r.status
		if r.crasher != "" {
			res += " " + r.crasher
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", short(r.pkg), r.name, r.execs, r.newEntries, r.elapsed.Round(time.Second), res)
	}
	fmt.Fprintf(tw, "total\t%d targets\t%d\t\t\t\n", len(results), total)
	tw.Flush()
}

func writeMarkdown(w io.Writer, results []result) {
	fmt.Fprintln(w, "| package | target | execs | new corpus entries | result |")
	fmt.Fprintln(w, "|---|---|--:|--:|---|")
	for _, r := range results {
		res := r.status
		if r.crasher != "" {
			res += " `" + r.crasher + "`"
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %s |\n", short(r.pkg), r.name, r.execs, r.newEntries, res)
	}
}

// short drops the module path from an import path.
func short(pkg string) string {
	_, rest, ok := strings.Cut(pkg, "github.com/ros-os/ros/")
	if ok && rest != "" {
		return rest
	}
	return pkg
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
