package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/ros-os/ros/pkg/api"
)

// newConfigCmd returns `ros config …`.
func newConfigCmd(env *apiEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Read and change the machine's cloud-config (through rosd)",
	}
	env.addSocketFlag(cmd)
	cmd.AddCommand(
		newConfigGetCmd(env),
		newConfigSetCmd(env),
		newConfigMergeCmd(env),
		newConfigExportCmd(env),
		newConfigValidateCmd(env),
		newConfigHistoryCmd(env),
	)
	return cmd
}

func newConfigGetCmd(env *apiEnv) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "get KEY",
		Short: "Print the value at a dotted key (hostname, ros.network.dns.nameservers)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := env.client().ConfigGet(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			switch {
			case format == formatJSON:
				return printJSON(w, v)
			case format == formatYAML || !isScalar(v):
				return printYAML(w, v)
			case v == nil:
				return nil
			}
			_, err = fmt.Fprintln(w, v)
			return err
		},
	}
	addOutputFlag(cmd, &format, formatText, formatJSON, formatYAML)
	return cmd
}

func isScalar(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return false
	}
	return true
}

func printYAML(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return enc.Close()
}

func newConfigSetCmd(env *apiEnv) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Set a dotted key to a YAML value and apply what can be applied live",
		Example: `  ros config set hostname web1
  ros config set ros.network.dns.nameservers '[1.1.1.1, 9.9.9.9]'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := env.client().ConfigSet(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			return printApply(cmd, res, format)
		},
	}
	addOutputFlag(cmd, &format, formatText, formatJSON)
	return cmd
}

func newConfigMergeCmd(env *apiEnv) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "merge FILE|-",
		Short: "Merge user-data (#cloud-config YAML) into the config and apply it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := readInput(cmd, args[0])
			if err != nil {
				return err
			}
			res, err := env.client().ConfigMerge(cmd.Context(), b)
			if err != nil {
				return err
			}
			return printApply(cmd, res, format)
		},
	}
	addOutputFlag(cmd, &format, formatText, formatJSON)
	return cmd
}

func newConfigExportCmd(env *apiEnv) *cobra.Command {
	var format string
	var private bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Print the merged running config (secrets left out unless --private)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := env.client().Config(cmd.Context(), private)
			if err != nil {
				return err
			}
			if format == formatYAML {
				_, err := cmd.OutOrStdout().Write(b)
				return err
			}
			var v any
			if err := yaml.Unmarshal(b, &v); err != nil {
				return fmt.Errorf("config from rosd: %w", err)
			}
			return printJSON(cmd.OutOrStdout(), v)
		},
	}
	cmd.Flags().BoolVar(&private, "private", false, "include secrets (private keys, passwords)")
	addOutputFlag(cmd, &format, formatYAML, formatJSON)
	return cmd
}

func newConfigValidateCmd(env *apiEnv) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "validate [FILE|-]",
		Short: "Validate user-data, or without FILE the user-data the machine booted with (exit 1 if invalid)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var body []byte
			if len(args) == 1 {
				var err error
				if body, err = readInput(cmd, args[0]); err != nil {
					return err
				}
			}
			v, err := env.client().ConfigValidate(cmd.Context(), body)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if format == formatJSON {
				if err := printJSON(w, v); err != nil {
					return err
				}
			} else {
				verdict := "valid"
				if !v.Valid {
					verdict = "invalid"
				}
				fmt.Fprintf(w, "%s: %s\n", dash(v.Source), verdict)
				for _, e := range v.Errors {
					fmt.Fprintf(w, "  error: %s\n", e)
				}
				for _, warn := range v.Warnings {
					fmt.Fprintf(w, "  warning: %s\n", warn)
				}
			}
			if !v.Valid {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	addOutputFlag(cmd, &format, formatText, formatJSON)
	return cmd
}

func newConfigHistoryCmd(env *apiEnv) *cobra.Command {
	var format string
	var limit int
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the configs applied and rejected, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			recs, err := env.client().ConfigHistory(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if format == formatJSON {
				return printJSON(cmd.OutOrStdout(), nonNil(recs))
			}
			t := newTable(cmd.OutOrStdout(), "ID", "TIME", "SOURCE", "STATUS", "DETAIL")
			for _, r := range recs {
				t.row(r.ID, env.formatTime(r.Time), r.Source, r.Status, dash(recordDetail(r)))
			}
			return t.flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "show at most N records (0: all)")
	addOutputFlag(cmd, &format, formatTable, formatJSON)
	return cmd
}

func recordDetail(r api.ConfigRecord) string {
	var parts []string
	if r.Error != "" {
		parts = append(parts, oneLine(r.Error))
	}
	if n := len(r.Warnings); n > 0 {
		parts = append(parts, fmt.Sprintf("%d warning%s", n, plural(n)))
	}
	return strings.Join(parts, "; ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
