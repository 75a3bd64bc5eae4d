// Command schemagen writes the JSON schema of the build format, generated
// from the Go types of package buildfile, for editors (yml/ros.schema.json).
//
//	go run ./tools/schemagen            # writes yml/ros.schema.json
//	go run ./tools/schemagen -o -       # prints it
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ros-os/ros/pkg/buildfile"
)

func main() {
	out := flag.String("o", "yml/ros.schema.json", "file to write, - for standard output")
	flag.Parse()
	if err := run(os.Stdout, *out); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

func run(stdout io.Writer, out string) error {
	b, err := buildfile.Schema()
	if err != nil {
		return err
	}
	if out == "-" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return fmt.Errorf("write schema: %w", err)
	}
	return nil
}
