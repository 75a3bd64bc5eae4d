package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ros-os/ros/pkg/api"
)

// apiEnv is what the API client commands share: where the socket is, and
// the clock and zone their tables are printed with.
type apiEnv struct {
	socket string // --socket
	now    func() time.Time
	loc    *time.Location
	stdin  io.Reader // nil: os.Stdin
}

// defaultAPIEnv reads ROS_SOCKET; --socket overrides it.
func defaultAPIEnv() *apiEnv {
	sock := os.Getenv("ROS_SOCKET")
	if sock == "" {
		sock = api.DefaultSocket
	}
	return &apiEnv{socket: sock, now: time.Now, loc: time.Local}
}

// addSocketFlag adds --socket to a command group.
func (e *apiEnv) addSocketFlag(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&e.socket, "socket", e.socket, "rosd API socket (env ROS_SOCKET)")
}

func (e *apiEnv) client() *api.Client { return api.NewClient(e.socket) }

// formatTime prints a time for a table.
func (e *apiEnv) formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(e.loc).Format("2006-01-02 15:04:05")
}

// ago returns how long ago t was, in words.
func (e *apiEnv) ago(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return humanDuration(e.now().Sub(t))
}

// agoSuffix is ago with " ago" after it, or "-".
func (e *apiEnv) agoSuffix(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return e.ago(t) + " ago"
}

// humanDuration says d the way docker ps does ("5 minutes", "About an hour").
func humanDuration(d time.Duration) string {
	switch s := int(d.Seconds()); {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	}
	switch m := int(d.Minutes()); {
	case m == 1:
		return "About a minute"
	case m < 60:
		return fmt.Sprintf("%d minutes", m)
	}
	switch h := int(d.Round(time.Hour).Hours()); {
	case h == 1:
		return "About an hour"
	case h < 48:
		return fmt.Sprintf("%d hours", h)
	case h < 24*7*2:
		return fmt.Sprintf("%d days", h/24)
	case h < 24*30*2:
		return fmt.Sprintf("%d weeks", h/24/7)
	case h < 24*365*2:
		return fmt.Sprintf("%d months", h/24/30)
	default:
		return fmt.Sprintf("%d years", h/24/365)
	}
}

// Output formats.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatYAML  = "yaml"
	formatText  = "text"
)

// addOutputFlag adds -o with the formats a command prints (the first is the
// default).
func addOutputFlag(cmd *cobra.Command, out *string, formats ...string) {
	cmd.Flags().StringVarP(out, "output", "o", formats[0], "output format: "+joinOr(formats))
	cmd.PreRunE = chainPreRun(cmd.PreRunE, func(*cobra.Command, []string) error {
		for _, f := range formats {
			if *out == f {
				return nil
			}
		}
		return fmt.Errorf("-o %s: unknown output format, want %s", *out, joinOr(formats))
	})
}

func chainPreRun(a, b func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	if a == nil {
		return b
	}
	return func(cmd *cobra.Command, args []string) error {
		if err := a(cmd, args); err != nil {
			return err
		}
		return b(cmd, args)
	}
}

func joinOr(s []string) string {
	switch len(s) {
	case 1:
		return s[0]
	case 2:
		return s[0] + " or " + s[1]
	}
	out := ""
	for i, x := range s {
		switch {
		case i == len(s)-1:
			out += " or " + x
		case i > 0:
			out += ", " + x
		default:
			out += x
		}
	}
	return out
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table writes tab-separated rows aligned in columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...any) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cols ...any) {
	for i, c := range cols {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		fmt.Fprint(t.tw, c)
	}
	fmt.Fprint(t.tw, "\n")
}

func (t *table) flush() error { return t.tw.Flush() }

// exitError ends the command with a status code; its message, if any, is
// printed as an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// ExitCode is the process exit status.
func (e *exitError) ExitCode() int { return e.code }

// readInput reads a file argument, "-" being stdin.
func readInput(cmd *cobra.Command, name string) ([]byte, error) {
	if name == "-" {
		b, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return b, nil
}

// printApply reports what a configuration change did.
func printApply(cmd *cobra.Command, res *api.ApplyResult, format string) error {
	w := cmd.OutOrStdout()
	if format == formatJSON {
		return printJSON(w, res)
	}
	if len(res.Applied) == 0 {
		fmt.Fprintln(w, "applied: nothing changed")
	}
	for _, a := range res.Applied {
		fmt.Fprintf(w, "applied: %s\n", a)
	}
	for _, r := range res.NeedsReboot {
		fmt.Fprintf(w, "needs reboot: %s\n", r)
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", warn)
	}
	return nil
}
