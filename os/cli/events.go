package cli

import (
	"github.com/spf13/cobra"
)

// newEventsCmd returns `ros events`.
func newEventsCmd(env *apiEnv) *cobra.Command {
	var format string
	var since int64
	var limit int
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Show the event log (service starts and exits, configs applied, upgrades)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			evs, err := env.client().Events(cmd.Context(), since, limit)
			if err != nil {
				return err
			}
			if format == formatJSON {
				return printJSON(cmd.OutOrStdout(), nonNil(evs))
			}
			t := newTable(cmd.OutOrStdout(), "ID", "TIME", "KIND", "SUBJECT", "MESSAGE")
			for _, e := range evs {
				t.row(e.ID, env.formatTime(e.Time), e.Kind, dash(e.Subject), oneLine(e.Message))
			}
			return t.flush()
		},
	}
	env.addSocketFlag(cmd)
	cmd.Flags().Int64Var(&since, "since", 0, "only events after this ID")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most N events (0: all)")
	addOutputFlag(cmd, &format, formatTable, formatJSON)
	return cmd
}

// newEngineCmd returns `ros engine …`.
func newEngineCmd(env *apiEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "engine",
		Short: "Choose the user container engine (docker or none)",
	}
	env.addSocketFlag(cmd)
	var listFormat string
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the user container engines",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			es, err := env.client().Engines(cmd.Context())
			if err != nil {
				return err
			}
			if listFormat == formatJSON {
				return printJSON(cmd.OutOrStdout(), nonNil(es))
			}
			t := newTable(cmd.OutOrStdout(), "NAME", "CURRENT", "STATE", "DESCRIPTION")
			for _, e := range es {
				cur := ""
				if e.Current {
					cur = "*"
				}
				t.row(e.Name, cur, dash(e.State), e.Description)
			}
			return t.flush()
		},
	}
	addOutputFlag(list, &listFormat, formatTable, formatJSON)
	var switchFormat string
	sw := &cobra.Command{
		Use:   "switch NAME",
		Short: "Make NAME the user container engine",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := env.client().SwitchEngine(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printApply(cmd, res, switchFormat)
		},
	}
	addOutputFlag(sw, &switchFormat, formatText, formatJSON)
	cmd.AddCommand(list, sw)
	return cmd
}
