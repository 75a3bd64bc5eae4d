package main

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// parseList reads `go test -list '^Fuzz' PKGS`: the names a test binary
// prints, then its result line (ok, ?, FAIL) naming the package.
func parseList(out string) ([]target, error) {
	var targets []target
	var names []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case fields[0] == "ok" && len(fields) >= 2:
			for _, n := range names {
				targets = append(targets, target{pkg: fields[1], name: n})
			}
			names = nil
		case fields[0] == "?" || fields[0] == "FAIL" || fields[0] == "---":
			if fields[0] == "FAIL" && len(fields) >= 2 {
				return nil, fmt.Errorf("listing the tests of %s failed", fields[1])
			}
			names = nil
		case strings.HasPrefix(fields[0], "Fuzz") && len(fields) == 1:
			names = append(names, fields[0])
		}
	}
	return targets, sc.Err()
}

// progressRE matches go test's fuzzing status line:
//
//	fuzz: elapsed: 3s, execs: 86931 (28975/sec), new interesting: 4 (total: 194)
var progressRE = regexp.MustCompile(`fuzz: elapsed: \S+, execs: (\d+) \(\d+/sec\), new interesting: (\d+) \(total: \d+\)`)

var crasherRE = regexp.MustCompile(`Failing input written to (\S+)`)

// parseFuzzOutput takes the execs and new corpus entries from the last
// status line, and the crasher file if go test wrote one.
func parseFuzzOutput(out string) result {
	var r result
	for _, m := range progressRE.FindAllStringSubmatch(out, -1) {
		r.execs, _ = strconv.ParseInt(m[1], 10, 64)
		r.newEntries, _ = strconv.ParseInt(m[2], 10, 64)
	}
	if m := crasherRE.FindStringSubmatch(out); m != nil {
		r.crasher = m[1]
	}
	return r
}

// deadlineRace reports a failure that is Go's, not the target's: with a
// -fuzztime duration the coordinator can report its own deadline as
// "context deadline exceeded" with no failing input (go.dev/issue/75804,
// fixed in Go 1.27).
func deadlineRace(out string) bool {
	if crasherRE.MatchString(out) {
		return false
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "context deadline exceeded" {
			return true
		}
	}
	return false
}
