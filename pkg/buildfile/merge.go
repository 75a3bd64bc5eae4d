package buildfile

// Merge joins build files in order, as LinuxKit's AppendConfig does: each
// kernel field set in a later file replaces the earlier one; init, onboot,
// onshutdown, services, files and volumes are appended; trust lists are
// appended. A service name or volume name used twice, in any of the files,
// is an error naming both places. The result shares entries with the
// inputs; the inputs are not modified.
func Merge(cfgs ...*Config) (*Config, error) {
	m := &Config{}
	for _, c := range cfgs {
		if c == nil {
			continue
		}
		k := c.Kernel
		if k.Image != "" {
			m.Kernel.Image = k.Image
		}
		if k.Cmdline != "" {
			m.Kernel.Cmdline = k.Cmdline
		}
		if k.Binary != "" {
			m.Kernel.Binary = k.Binary
		}
		if k.Tar != nil {
			m.Kernel.Tar = k.Tar
		}
		if k.UCode != nil {
			m.Kernel.UCode = k.UCode
		}
		if k.pos.File != "" && (k.Image != "" || m.Kernel.pos.File == "") {
			m.Kernel.pos = k.pos
		}
		m.Init = append(m.Init, c.Init...)
		m.initPos = append(m.initPos, padPos(c.initPos, len(c.Init))...)
		m.Onboot = append(m.Onboot, c.Onboot...)
		m.Onshutdown = append(m.Onshutdown, c.Onshutdown...)
		m.Services = append(m.Services, c.Services...)
		m.Files = append(m.Files, c.Files...)
		m.Volumes = append(m.Volumes, c.Volumes...)
		if c.Trust != nil {
			if m.Trust == nil {
				m.Trust = &Trust{}
			}
			m.Trust.Image = append(m.Trust.Image, c.Trust.Image...)
			m.Trust.Org = append(m.Trust.Org, c.Trust.Org...)
		}
	}
	if err := uniqueServices(m.Services); err != nil {
		return nil, err
	}
	if err := uniqueVolumes(m.Volumes); err != nil {
		return nil, err
	}
	return m, nil
}

// padPos makes a position list n long (a Config built by hand has none).
func padPos(p []Pos, n int) []Pos {
	out := make([]Pos, n)
	copy(out, p)
	return out
}
