package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/upgrade/progress"
)

// newOSCmd returns `ros os …`.
func newOSCmd(env *apiEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "os",
		Short: "Show, upgrade and roll back the OS (A/B slots)",
	}
	env.addSocketFlag(cmd)
	cmd.AddCommand(newOSVersionCmd(env), newOSStatusCmd(env), newOSListCmd(env), newOSUpgradeCmd(env), newOSRollbackCmd(env))
	return cmd
}

func newOSVersionCmd(env *apiEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the running OS version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := env.client().OSStatus(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), st.Version)
			return nil
		},
	}
}

func newOSStatusCmd(env *apiEnv) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show both slots: version, state, which is booted and which boots next",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := env.client().OSStatus(cmd.Context())
			if err != nil {
				return err
			}
			if format == formatJSON {
				return printJSON(cmd.OutOrStdout(), st)
			}
			return printOSStatus(env, cmd.OutOrStdout(), st)
		},
	}
	addOutputFlag(cmd, &format, formatTable, formatJSON)
	return cmd
}

func printOSStatus(env *apiEnv, w io.Writer, st *api.OSStatus) error {
	if st.Live {
		fmt.Fprintf(w, "version %s, running from live media (no slots; 'ros install' puts the OS on a disk)\n", st.Version)
		return nil
	}
	t := newTable(w, "SLOT", "VERSION", "STATE", "BOOTED", "NEXT")
	for _, s := range st.Slots {
		t.row(s.Name, dash(s.Version), s.State, yesNo(s.Booted), yesNo(s.Next))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if st.Trial {
		fmt.Fprintf(w, "\nThis boot is a trial of slot %s: it becomes the good slot once the services are healthy.\n", st.Booted)
	}
	if len(st.History) > 0 {
		fmt.Fprintln(w)
		h := newTable(w, "TIME", "VERSION", "SLOT", "STATUS", "MESSAGE")
		for _, u := range st.History {
			h.row(env.formatTime(u.Time), u.Version, u.Slot, u.Status, u.Message)
		}
		return h.flush()
	}
	return nil
}

func newOSListCmd(env *apiEnv) *cobra.Command {
	var format, channel string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the versions the upgrade channel offers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			vs, err := env.client().OSVersions(cmd.Context(), channel)
			if err != nil {
				return err
			}
			if format == formatJSON {
				return printJSON(cmd.OutOrStdout(), nonNil(vs))
			}
			t := newTable(cmd.OutOrStdout(), "VERSION", "ARCH", "SIZE", "BUILT", "NOTE")
			for _, v := range vs {
				note := ""
				switch {
				case v.Current:
					note = "running"
				case v.Bad:
					note = "failed here before (needs --force)"
				}
				built := "-"
				if !v.BuildTime.IsZero() {
					built = v.BuildTime.UTC().Format(time.DateOnly)
				}
				t.row(v.Version, v.Arch, fmt.Sprintf("%.1f MiB", float64(v.Size)/(1<<20)), built, note)
			}
			return t.flush()
		},
	}
	addOutputFlag(cmd, &format, formatTable, formatJSON)
	cmd.Flags().StringVar(&channel, "channel", "", "channel index URL (default: ros.upgrade.channel)")
	return cmd
}

func newOSUpgradeCmd(env *apiEnv) *cobra.Command {
	var req api.UpgradeRequest
	cmd := &cobra.Command{
		Use:   "upgrade",
		Short: "Write a new OS version into the idle slot and boot it on trial",
		Long: `upgrade fetches a bundle, checks its size, sha256, signature, architecture and
version before writing anything, writes its payload into the slot that is not
running, reads it back, and arms one trial boot of that slot. The trial boot
becomes the good slot once containerd, rosd and the essential services are
healthy; otherwise the machine comes back to the current slot by itself.

The bundle comes from --bundle (a file on this machine, or an http(s) URL),
--image (a registry reference or oci-archive:PATH), or the channel
(ros.upgrade.channel or --channel): --version, or else the newest version.`,
		Example: `  ros os upgrade --bundle /home/ros/ros-v2.bundle
  ros os upgrade --bundle https://example.com/ros/ros-v2.bundle --no-reboot
  ros os upgrade --version v2
  ros os upgrade --image registry.example.com/ros/os:v2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.Bundle != "" && !strings.Contains(req.Bundle, "://") {
				// rosd opens the file: give it a path that does not
				// depend on this shell's working directory.
				abs, err := filepath.Abs(req.Bundle)
				if err != nil {
					return err
				}
				req.Bundle = abs
			}
			bar := newProgressBar(cmd.ErrOrStderr())
			res, err := env.client().OSUpgrade(cmd.Context(), req, bar.show)
			bar.end()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "upgraded %s -> %s in slot %s (%.1f MiB: fetch %s, verify %s, write %s, read back %s)\n",
				dash(res.From), res.To, res.Slot, float64(res.Bytes)/(1<<20),
				round(res.Fetch), round(res.Verify), round(res.Write), round(res.ReadBack))
			if res.Reboot {
				fmt.Fprintln(w, "rebooting into the trial boot")
			} else {
				fmt.Fprintln(w, "the next boot tries it; reboot when ready")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Bundle, "bundle", "", "bundle file on this machine, or its http(s) URL")
	f.StringVar(&req.Image, "image", "", "bundle as an OCI image: registry reference or oci-archive:PATH")
	f.StringVar(&req.Version, "version", "", "version to take from the channel")
	f.StringVar(&req.Channel, "channel", "", "channel index URL (default: ros.upgrade.channel)")
	f.BoolVar(&req.Force, "force", false, "allow a downgrade, the same version, or a version that failed before")
	f.BoolVar(&req.Insecure, "insecure", false, "accept a bundle without a valid signature (logged)")
	f.BoolVar(&req.NoReboot, "no-reboot", false, "do not reboot: the next boot, whenever it happens, tries the new slot")
	f.StringVar(&req.PauseAt, "pause-at", "", "tests only: stop at this step until interrupted")
	_ = f.MarkHidden("pause-at")
	return cmd
}

func newOSRollbackCmd(env *apiEnv) *cobra.Command {
	var noReboot bool
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Boot the other slot (if it holds a good image) and reboot",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := env.client().OSRollback(cmd.Context(), noReboot)
			if err != nil {
				return err
			}
			msg := "the next boot starts it, on trial"
			if res.Reboot {
				msg = "rebooting"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "rolling back to slot %s (%s): %s\n", res.Slot, dash(res.Version), msg)
			return nil
		},
	}
	cmd.Flags().BoolVar(&noReboot, "no-reboot", false, "do not reboot now")
	return cmd
}

func newInstallCmd(env *apiEnv) *cobra.Command {
	var (
		req    api.InstallRequest
		config string
	)
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install the running OS (from the live ISO) to a disk",
		Long: `install lays out DEVICE as a ros A/B disk: GRUB for BIOS and UEFI, the running
OS in slot A, an empty slot B and a ROS_STATE partition filling the rest, with
the cloud-config (a file on this machine or a URL) saved where rosd reads it
at every boot. A disk that has partitions is refused unless --force; a disk in
use is always refused.`,
		Example: `  ros install -d /dev/sda -c cloud-config.yml
  ros install -d /dev/vda -c https://example.com/user-data --force`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.Device == "" {
				return fmt.Errorf("--device is required")
			}
			if config != "" {
				if strings.Contains(config, "://") {
					req.CloudConfig = config
				} else {
					b, err := os.ReadFile(config)
					if err != nil {
						return fmt.Errorf("cloud-config: %w", err)
					}
					req.CloudConfig = string(b)
				}
			}
			err := env.client().OSInstall(cmd.Context(), req, func(p api.Progress) {
				if p.Message != "" {
					fmt.Fprintln(cmd.ErrOrStderr(), p.Message)
				}
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "installed to %s\n", req.Device)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&req.Device, "device", "d", "", "disk to install to (e.g. /dev/sda)")
	f.StringVarP(&config, "cloud-config", "c", "", "cloud-config file or URL to install with")
	f.BoolVar(&req.Force, "force", false, "overwrite a disk that already has partitions")
	f.BoolVar(&req.NoReboot, "no-reboot", false, "do not reboot when done")
	f.StringVar(&req.Append, "append", "", "extra kernel command line for the installed OS")
	env.addSocketFlag(cmd)
	return cmd
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }

// progressBar draws upgrade progress on one terminal line (or one line
// per phase when w is not a terminal).
type progressBar struct {
	w     io.Writer
	tty   bool
	phase string
	start time.Time
	last  time.Time
}

func newProgressBar(w io.Writer) *progressBar {
	f, ok := w.(*os.File)
	tty := false
	if ok {
		if fi, err := f.Stat(); err == nil {
			tty = fi.Mode()&os.ModeCharDevice != 0
		}
	}
	return &progressBar{w: w, tty: tty}
}

func (b *progressBar) show(p api.Progress) {
	if p.Phase != b.phase {
		b.end()
		b.phase, b.start = p.Phase, time.Now()
		if p.Message != "" {
			fmt.Fprintf(b.w, "%s: %s\n", p.Phase, p.Message)
		}
	}
	if p.Total <= 0 || !b.tty && p.Done < p.Total {
		return
	}
	if b.tty && time.Since(b.last) < 200*time.Millisecond && p.Done < p.Total {
		return
	}
	b.last = time.Now()
	line := fmt.Sprintf("%-8s %s", p.Phase, progress.Format(p.Done, p.Total, time.Since(b.start)))
	if b.tty {
		fmt.Fprintf(b.w, "\r%s\x1b[K", line)
	} else {
		fmt.Fprintln(b.w, line)
	}
}

func (b *progressBar) end() {
	if b.tty && b.phase != "" {
		fmt.Fprintln(b.w)
	}
	b.phase = ""
}
