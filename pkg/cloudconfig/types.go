package cloudconfig

// Config is a cloud-config: the cloud-init keys ros understands and the
// ros: section. It is the single source of truth: Parse decodes into it,
// Validate checks it, Merge combines several, Export renders it.
//
// A zero field means "not set", so that Merge can tell an absent key from
// one set to a value; booleans a later config must be able to turn off are
// pointers for the same reason.
type Config struct {
	Hostname          string         `yaml:"hostname,omitempty" json:"hostname,omitempty"`
	FQDN              string         `yaml:"fqdn,omitempty" json:"fqdn,omitempty"`
	SSHAuthorizedKeys StringList     `yaml:"ssh_authorized_keys,omitempty" json:"ssh_authorized_keys,omitempty" merge:"append"`
	SSHPwauth         *bool          `yaml:"ssh_pwauth,omitempty" json:"ssh_pwauth,omitempty"`
	Users             []User         `yaml:"users,omitempty" json:"users,omitempty" merge:"byname"`
	WriteFiles        []WriteFile    `yaml:"write_files,omitempty" json:"write_files,omitempty" merge:"append"`
	Bootcmd           []Command      `yaml:"bootcmd,omitempty" json:"bootcmd,omitempty" merge:"append"`
	Runcmd            []Command      `yaml:"runcmd,omitempty" json:"runcmd,omitempty" merge:"append"`
	Mounts            []Mount        `yaml:"mounts,omitempty" json:"mounts,omitempty"`
	NTP               NTP            `yaml:"ntp,omitempty" json:"ntp,omitempty"`
	Timezone          string         `yaml:"timezone,omitempty" json:"timezone,omitempty"`
	ManageResolvConf  *bool          `yaml:"manage_resolv_conf,omitempty" json:"manage_resolv_conf,omitempty"`
	ResolvConf        ResolvConf     `yaml:"resolv_conf,omitempty" json:"resolv_conf,omitempty"`
	ManageEtcHosts    ManageEtcHosts `yaml:"manage_etc_hosts,omitempty" json:"manage_etc_hosts,omitempty"`
	ROS               ROS            `yaml:"ros,omitempty" json:"ros,omitempty"`

	// Scripts are the `#!` parts of the user-data, in order, to be run by
	// the caller; they are not part of the YAML.
	Scripts []Script `yaml:"-" json:"scripts,omitempty" merge:"append"`
	// Includes are the `#include` URLs Parse did not fetch (no WithFetch).
	Includes []Include `yaml:"-" json:"includes,omitempty" merge:"append"`

	pos positions
}

// User is an entry of users. In a sequence, the bare string "default"
// stands for the default user (ros).
type User struct {
	Name         string    `yaml:"name" json:"name"`
	Gecos        string    `yaml:"gecos,omitempty" json:"gecos,omitempty"`
	Homedir      string    `yaml:"homedir,omitempty" json:"homedir,omitempty"`
	PrimaryGroup string    `yaml:"primary_group,omitempty" json:"primary_group,omitempty"`
	Groups       CommaList `yaml:"groups,omitempty" json:"groups,omitempty"`
	// Sudo holds sudoers rules ("ALL=(ALL) NOPASSWD:ALL"); `sudo: false`
	// gives an empty, non-nil list.
	Sudo       SudoRules `yaml:"sudo,omitempty" json:"sudo,omitempty"`
	Shell      string    `yaml:"shell,omitempty" json:"shell,omitempty"`
	UID        *int      `yaml:"uid,omitempty" json:"uid,omitempty"`
	System     *bool     `yaml:"system,omitempty" json:"system,omitempty"`
	LockPasswd *bool     `yaml:"lock_passwd,omitempty" json:"lock_passwd,omitempty"`
	// Passwd and HashedPasswd are crypt(3) hashes, as in cloud-init;
	// PlainTextPasswd is the password itself.
	Passwd            string     `yaml:"passwd,omitempty" json:"passwd,omitempty" secret:"true"`
	HashedPasswd      string     `yaml:"hashed_passwd,omitempty" json:"hashed_passwd,omitempty" secret:"true"`
	PlainTextPasswd   string     `yaml:"plain_text_passwd,omitempty" json:"plain_text_passwd,omitempty" secret:"true"`
	SSHAuthorizedKeys StringList `yaml:"ssh_authorized_keys,omitempty" json:"ssh_authorized_keys,omitempty" merge:"append"`
}

// WriteFile is an entry of write_files. Content is as written, in
// Encoding; Decode gives the bytes to write.
type WriteFile struct {
	Path        string      `yaml:"path" json:"path"`
	Content     string      `yaml:"content,omitempty" json:"content,omitempty"`
	Encoding    string      `yaml:"encoding,omitempty" json:"encoding,omitempty"`
	Permissions Permissions `yaml:"permissions,omitempty" json:"permissions,omitempty"`
	Owner       string      `yaml:"owner,omitempty" json:"owner,omitempty"`
	Append      bool        `yaml:"append,omitempty" json:"append,omitempty"`
	// Defer writes the file after users are created (cloud-init's
	// final stage), so that owner may name a user from users.
	Defer bool `yaml:"defer,omitempty" json:"defer,omitempty"`
}

// NTP is the ntp key.
type NTP struct {
	Enabled *bool    `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	Servers []string `yaml:"servers,omitempty" json:"servers,omitempty"`
	Pools   []string `yaml:"pools,omitempty" json:"pools,omitempty"`
}

// ResolvConf is the resolv_conf key; it is written only when
// manage_resolv_conf is true, as in cloud-init.
type ResolvConf struct {
	Nameservers   []string          `yaml:"nameservers,omitempty" json:"nameservers,omitempty"`
	SearchDomains []string          `yaml:"searchdomains,omitempty" json:"searchdomains,omitempty"`
	Domain        string            `yaml:"domain,omitempty" json:"domain,omitempty"`
	Options       map[string]Scalar `yaml:"options,omitempty" json:"options,omitempty"`
}

// Script is a `#!` part of the user-data, to be run by the caller.
type Script struct {
	Source  string `json:"source"`         // where it came from
	Name    string `json:"name,omitempty"` // the MIME part's filename, if any
	Content []byte `json:"content"`
}

// Include is a URL listed by `#include` (or a text/x-include-url part).
type Include struct {
	Source string `json:"source"`
	URL    string `json:"url"`
	Once   bool   `json:"once,omitempty"` // #include-once
}
