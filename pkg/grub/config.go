// Package grub generates GRUB configuration for ros boot media and builds
// GRUB core images with Debian's grub-mkimage.
//
// The A/B disk config (DiskConfig) keeps its state in GRUB's environment
// block next to grub.cfg ($prefix/grubenv on the ESP):
//
//	ros_good       the slot known to boot: A or B (anything else means A)
//	ros_try        a slot to try instead of ros_good, or empty
//	ros_tries      trial boots left for ros_try (literal 1..MaxTries)
//	ros_cmdline_A  slot A's kernel command line (the payload's boot/cmdline)
//	ros_cmdline_B  slot B's kernel command line
//	ros_state_A    slot A's state: good, trying, bad, writing or empty
//	ros_state_B    (missing: A good, B empty)
//	ros_version_A  the OS version written to slot A
//	ros_version_B
//	ros_sum        first variable: CRC-32 of the others but ros_tries (seal.go)
//	ros_sum_end    last variable: the same value
//
// The block has two copies, grubenv (the primary) and grubenv.bak. Writers
// write the backup, then the primary, each in place with one write and an
// fsync. grub.cfg uses the primary when load_env reads it and its ros_sum
// equals its ros_sum_end (a write torn between sectors breaks that), else
// the backup, else the primary as it is. Go also checks the CRC.
//
// GRUB has no arithmetic, so a trial boot decrements ros_tries by literal
// cases and saves the environment before loading the kernel: a panic or a
// hang uses up the try. The decrement is saved into the copy that was
// loaded and, when its seal agrees too, into the other copy. With no tries
// left GRUB boots ros_good; userspace sees ros_try still set with
// ros_tries=0 and knows the trial failed. When the chosen slot cannot be
// loaded GRUB falls back to the other slot unless that slot's state is
// writing, bad or empty, then reboots.
//
// Each slot's kernel and initrd are read from inside its squashfs partition
// (GRUB's squash4 reads gzip and xz, not zstd). GRUB 2.06 cannot search by
// GPT partition name and squashfs has no label, so the disk is taken from
// $root (the ESP GRUB was loaded from, "hdN,gptM") with regexp and the slot
// partitions by their fixed numbers in the ros layout.
//
// The command line lives in grubenv rather than in the slot because the
// payload is written to the slot byte for byte (its hash is signed) and
// GRUB 2.06 cannot read a plain file into a variable. Whoever writes a slot
// writes its ros_cmdline_X in the same single grubenv write that points
// ros_try at it, so slot and command line change together.
package grub

import (
	"fmt"
	"strings"
	"text/template"
)

// Names of the grubenv variables (see the package comment).
const (
	VarGood    = "ros_good"
	VarTry     = "ros_try"
	VarTries   = "ros_tries"
	VarCmdline = "ros_cmdline_" // + slot name
)

// Files of the two grubenv copies in $prefix (the ESP's EFI/BOOT).
const (
	EnvFile       = "grubenv"
	EnvBackupFile = "grubenv.bak"
)

// CmdlineVar returns the grubenv variable holding slot's command line.
func CmdlineVar(slot string) string { return VarCmdline + slot }

// MaxTries is the largest ros_tries value grub.cfg decrements.
const MaxTries = 3

// Slot is one A/B slot partition.
type Slot struct {
	Name      string // "A" or "B"
	Partition int    // GPT partition number on the boot disk
}

// DiskOptions parameterise DiskConfig.
type DiskOptions struct {
	Slots   []Slot // exactly two; default A=3, B=4
	Timeout int    // menu timeout in seconds; default 1
	// Serial is the GRUB serial line setup; default "--unit=0 --speed=115200".
	Serial string
}

// DefaultSlots is the ros disk layout's slot partitions.
var DefaultSlots = []Slot{{Name: "A", Partition: 3}, {Name: "B", Partition: 4}}

const defaultSerial = "--unit=0 --speed=115200"

// DiskConfig returns grub.cfg for the A/B disk. It is loaded from the ESP
// (EFI/BOOT/grub.cfg) on both BIOS and UEFI.
func DiskConfig(o DiskOptions) (string, error) {
	if len(o.Slots) == 0 {
		o.Slots = DefaultSlots
	}
	if len(o.Slots) != 2 || o.Slots[0].Name == o.Slots[1].Name {
		return "", fmt.Errorf("grub disk config: need two distinct slots, got %v", o.Slots)
	}
	for _, s := range o.Slots {
		if s.Name != "A" && s.Name != "B" || s.Partition < 1 {
			return "", fmt.Errorf("grub disk config: bad slot %+v", s)
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = 1
	}
	if o.Serial == "" {
		o.Serial = defaultSerial
	}
	var tries []int
	for n := MaxTries; n >= 1; n-- {
		tries = append(tries, n)
	}
	envVars := []string{VarGood, VarTry, VarTries}
	for _, s := range o.Slots {
		envVars = append(envVars, CmdlineVar(s.Name), StateVar(s.Name), VersionVar(s.Name))
	}
	envVars = append(envVars, VarSum, VarSumEnd)
	var b strings.Builder
	err := diskTmpl.Execute(&b, map[string]any{
		"Opt": o, "Tries": tries, "EnvVars": envVars,
		"Good": VarGood, "Try": VarTry, "TriesVar": VarTries, "Cmdline": VarCmdline,
		"State": VarState, "Sum": VarSum, "SumEnd": VarSumEnd,
		"Env": EnvFile, "Backup": EnvBackupFile,
		"Writing": SlotWriting, "Bad": SlotBad, "Empty": SlotEmpty,
	})
	if err != nil {
		return "", fmt.Errorf("grub disk config: %w", err)
	}
	return b.String(), nil
}

var funcs = template.FuncMap{
	"sub":          func(a, b int) int { return a - b },
	"quote":        Quote,
	"defaultState": DefaultState,
}

var diskTmpl = template.Must(template.New("disk").Funcs(funcs).Parse(`# grub.cfg for a ros A/B disk, generated by ros (pkg/grub). Do not edit.
# State in ${prefix}/{{.Env}} (copy: {{.Backup}}): {{.Good}} (A|B), {{.Try}} (A|B or empty),
# {{.TriesVar}} (trial boots left), {{.Cmdline}}A / {{.Cmdline}}B (command lines),
# {{.State}}A / {{.State}}B (good|trying|bad|writing|empty), {{.Sum}} ... {{.SumEnd}} (seal).
serial {{.Opt.Serial}}
terminal_input serial console
terminal_output serial console

# Use {{.Env}} when it loads and its seal agrees (a torn write leaves
# {{.Sum}} and {{.SumEnd}} different), else {{.Backup}}, else {{.Env}} as it is.
set ros_env=
if load_env -f "${prefix}/{{.Env}}"; then
  if [ "${{.Sum}}" = "${{.SumEnd}}" ]; then set ros_env={{.Env}}; fi
fi
if [ -z "$ros_env" ]; then
{{- range .EnvVars}}
  unset {{.}}
{{- end}}
  if load_env -f "${prefix}/{{.Backup}}"; then
    set ros_env={{.Backup}}
  elif load_env -f "${prefix}/{{.Env}}"; then
    set ros_env={{.Env}}
  fi
fi
# The other copy gets the trial decrement too, if its seal agrees.
if [ "$ros_env" = "{{.Env}}" ]; then set ros_env_other={{.Backup}}; else set ros_env_other={{.Env}}; fi
set ros_other_ok=n
unset {{.Sum}}
unset {{.SumEnd}}
if load_env -f "${prefix}/${ros_env_other}" {{.Sum}} {{.SumEnd}}; then
  if [ "${{.Sum}}" = "${{.SumEnd}}" ]; then set ros_other_ok=y; fi
fi

# The boot disk is the one holding this ESP: $root is "hdN,gptM".
set ros_disk=hd0
regexp --set=1:ros_disk '^([^,]+)' "$root"

if [ "${{.Good}}" != "B" ]; then set {{.Good}}=A; fi
{{- range .Opt.Slots}}
if [ -z "${{$.State}}{{.Name}}" ]; then set {{$.State}}{{.Name}}={{defaultState .Name}}; fi
{{- end}}
set ros_first="${{.Good}}"
if [ "${{.Try}}" = "A" -o "${{.Try}}" = "B" ]; then
{{- range $i, $n := .Tries}}
  {{if $i}}elif{{else}}if{{end}} [ "${{$.TriesVar}}" = "{{$n}}" ]; then
    set {{$.TriesVar}}={{sub $n 1}}
    set ros_first="${{$.Try}}"
    save_env -f "${prefix}/${ros_env}" {{$.TriesVar}}
    if [ "$ros_other_ok" = "y" ]; then save_env -f "${prefix}/${ros_env_other}" {{$.TriesVar}}; fi
{{- end}}
  fi
fi
# Never fall back to a slot that is being written, failed, or holds nothing.
if [ "$ros_first" = "A" ]; then
  set ros_second=B
  set ros_second_state="${{.State}}B"
else
  set ros_second=A
  set ros_second_state="${{.State}}A"
fi
set ros_fallback=y
if [ "$ros_second_state" = "{{.Writing}}" -o "$ros_second_state" = "{{.Bad}}" -o "$ros_second_state" = "{{.Empty}}" ]; then
  set ros_fallback=n
fi
export ros_disk ros_first ros_second ros_second_state ros_fallback {{.Cmdline}}A {{.Cmdline}}B

# ros_boot SLOT [ARG]: boot SLOT's kernel and initrd from inside its
# squashfs partition; returns only if that fails.
function ros_boot {
{{- range .Opt.Slots}}
  if [ "$1" = "{{.Name}}" ]; then
    set ros_dev="(${ros_disk},gpt{{.Partition}})"
    set ros_cmdline="${{$.Cmdline}}{{.Name}}"
  fi
{{- end}}
  echo "ros: booting slot $1 from ${ros_dev}"
  if [ -f "${ros_dev}/boot/kernel" ]; then
    if linux "${ros_dev}/boot/kernel" "ros.slot=$1" $ros_cmdline $2; then
      if initrd "${ros_dev}/boot/initrd"; then
        boot
      fi
    fi
  fi
  echo "ros: slot $1 cannot be booted"
}

set default=ros
set timeout_style=menu
set timeout={{.Opt.Timeout}}

menuentry "ros (slot ${ros_first})" --id ros {
  ros_boot "$ros_first"
  if [ "$ros_fallback" = "y" ]; then
    ros_boot "$ros_second"
  else
    echo "ros: no fallback to slot $ros_second: it is $ros_second_state"
  fi
  echo "ros: no slot can be booted; rebooting in 10 seconds"
  sleep 10
  reboot
}
{{- range .Opt.Slots}}
menuentry "ros slot {{.Name}}" --id ros-{{.Name}} {
  ros_boot {{.Name}}
  sleep 10
  reboot
}
{{- end}}
menuentry "ros (slot ${ros_first}, debug shell)" --id ros-debug {
  ros_boot "$ros_first" ros.debug
  sleep 10
  reboot
}
`))

// ISOOptions parameterise ISOConfig.
type ISOOptions struct {
	Cmdline string // the payload's kernel command line
	Timeout int    // menu timeout in seconds; default 3
	Serial  string // default "--unit=0 --speed=115200"
}

// ISO file locations (contract: label ROS_LIVE, /ros/rootfs.squashfs).
// GRUB reads the kernel and initrd from inside the payload, as on a disk
// slot, so the ISO does not carry them twice.
const (
	ISOLabel   = "ROS_LIVE"
	ISORootfs  = "/ros/rootfs.squashfs"
	ISOGrubCfg = "/boot/grub/grub.cfg"
)

// ISOConfig returns grub.cfg for the live ISO (/boot/grub/grub.cfg).
func ISOConfig(o ISOOptions) (string, error) {
	if o.Timeout <= 0 {
		o.Timeout = 3
	}
	if o.Serial == "" {
		o.Serial = defaultSerial
	}
	if strings.ContainsAny(o.Cmdline, "\n\x00") {
		return "", fmt.Errorf("grub iso config: command line holds a newline or NUL")
	}
	var b strings.Builder
	err := isoTmpl.Execute(&b, map[string]any{
		"Opt": o, "Rootfs": ISORootfs,
	})
	if err != nil {
		return "", fmt.Errorf("grub iso config: %w", err)
	}
	return b.String(), nil
}

var isoTmpl = template.Must(template.New("iso").Funcs(funcs).Parse(`# grub.cfg for the ros live ISO, generated by ros (pkg/grub). Do not edit.
serial {{.Opt.Serial}}
terminal_input serial console
terminal_output serial console
insmod part_gpt
insmod part_msdos

# Use the device GRUB found by the ISO's UUID if it holds the payload, else
# find it by file.
if [ ! -f "{{.Rootfs}}" ]; then
  search --no-floppy --file --set=root "{{.Rootfs}}"
fi
# The kernel and initrd are read from inside the payload. The ISO's GRUB
# images have squash4 built in; insmod says that it is needed.
insmod squash4
loopback ros_live "{{.Rootfs}}"

set ros_cmdline={{quote .Opt.Cmdline}}
export ros_cmdline

set default=ros-live
set timeout_style=menu
set timeout={{.Opt.Timeout}}

menuentry "ros (live)" --id ros-live {
  linux (ros_live)/boot/kernel ros.live $ros_cmdline
  initrd (ros_live)/boot/initrd
}
menuentry "ros (live, debug shell)" --id ros-debug {
  linux (ros_live)/boot/kernel ros.live ros.debug $ros_cmdline
  initrd (ros_live)/boot/initrd
}
menuentry "Install ros to the first disk" --id ros-install {
  linux (ros_live)/boot/kernel ros.live $ros_cmdline ros.install.device=auto
  initrd (ros_live)/boot/initrd
}
`))

// Quote returns s as one GRUB script word that expands to s literally.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
