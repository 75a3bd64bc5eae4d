// Package cloudconfig reads, checks, merges and renders the cloud-config of
// a ros machine. It does no I/O: datasources (pkg/datasource) hand it the
// user-data bytes, and #include URLs are fetched through a function the
// caller passes (WithFetch).
//
// # Formats
//
// Parse tells the format of user-data by its first line: `#cloud-config`
// (YAML), `#!` (a script, returned in Config.Scripts for the caller to
// run), `#include` / `#include-once` (URLs, fetched and read in place with
// WithFetch, otherwise returned in Config.Includes), a MIME message
// (multipart/mixed with text/cloud-config, text/x-shellscript,
// text/x-include-url and text/x-include-once-url parts; gzip and nested
// multipart parts too), or gzip (by its magic bytes: decompressed, then
// told again). Nesting is bounded by WithMaxDepth, sizes by MaxSize.
// Jinja templates, #cloud-boothook, #part-handler and
// #cloud-config-archive are refused with ErrFormat.
//
// # Keys
//
// Config is the single source of truth: the cloud-init keys (hostname,
// fqdn, ssh_authorized_keys, ssh_pwauth, users, write_files, bootcmd,
// runcmd, mounts, ntp, timezone, manage_resolv_conf, resolv_conf,
// manage_etc_hosts) and the ros: section (network, services, engine,
// sysctl, modules, environment, upgrade, ssh, console, cloud_init). The
// short spellings cloud-init allows are read: a string for a one-item
// list of keys, "a, b" for groups, a string or an argument list per
// runcmd/bootcmd entry, `sudo: false`, `users: [default]`, unquoted
// `permissions: 0644`, `engine: docker`.
//
// Unknown keys are warnings naming the key and line, never errors. Values
// of the wrong kind are errors naming the source, line and key:
//
//	user-data:7: ros.network.interfaces.eth0.mtu: expected an integer, got "big"
//
// Parse ends with Validate; a config that fails it is an error, and the
// caller keeps its last good config.
//
// # RancherOS and k3OS spellings
//
// A `rancher:` or `k3os:` section is read as an alias of `ros:` where the
// keys mean the same thing. When one is given beside `ros:`, they are
// merged (Merge, the alias section first) so `ros:` wins, with a warning.
// Keys not in these tables are warned about and ignored.
//
//	rancher: key                        ros key
//	network.interfaces.NAME             ros.network.interfaces.NAME, with:
//	  .dhcp, .mtu, .gateway               the same key
//	  .address, .addresses                .addresses (joined into one list)
//	  .gateway_ipv6                       .gateway6
//	  .match (a name glob or a MAC)       .match.name or .match.mac
//	  (bond, bond_opts, bridge, vlans, pre_up, post_up, dhcp_args,
//	  ipv4ll are not translated: write them under ros:)
//	network.dns.nameservers             ros.network.dns.nameservers
//	network.dns.search                  ros.network.dns.search
//	network.http_proxy                  ros.network.proxy.http
//	network.https_proxy                 ros.network.proxy.https
//	network.no_proxy                    ros.network.proxy.no_proxy
//	sysctl                              ros.sysctl
//	modules                             ros.modules
//	environment                         ros.environment
//	upgrade.url                         ros.upgrade.url
//	ssh.port                            ros.ssh.port
//	ssh.keys (ssh_host_T_key[.pub])     ros.ssh.host_keys[{type: T, private, public}]
//	docker.extra_args                   ros.engine.args
//	services_include (NAME: bool)       ros.services.enable / disable
//	cloud_init.datasources              ros.cloud_init.datasources
//	password                            users[{name: ros, plain_text_passwd}]
//	                                    (hashed_passwd when it starts with $)
//
//	k3os: key                           ros key
//	modules                             ros.modules
//	sysctl                              ros.sysctl
//	environment                         ros.environment
//	dns_nameservers                     ros.network.dns.nameservers
//	ntp_servers                         ntp.servers
//	data_sources                        ros.cloud_init.datasources
//	password                            users[{name: ros, …}] as above
//	(server_url, token, labels, taints, k3s_args, wifi, install: k3s and
//	installer keys, ignored with a warning)
//
// k3OS's top-level run_cmd and boot_cmd are read as runcmd and bootcmd.
// In RancherOS, an interface key "mac=aa:bb:…" selects by MAC; it is read
// into match.mac in any section.
//
// # Merging
//
// Merge lays one config over another; the machine merges image defaults <
// saved config < datasource < kernel command line. See Merge for the rule
// of each kind of key.
//
// # Kernel command line
//
// FromCmdline reads ros.KEY=VALUE parameters, VALUE as YAML
// (ros.network.dns.nameservers=[1.1.1.1,8.8.8.8] ros.hostname=box), the
// same through rancher. and k3os. and the alias tables, and returns
// ros.config.url= and the decoded ros.config.b64= for the caller to fetch
// and Parse. The initrd's own parameters (ros.slot, ros.live, ros.debug,
// ros.rootwait) are skipped.
//
// # Get, Set and Diff
//
// Get and Set address one key as errors name it: YAML names joined by
// dots, list entries by index (users[0].groups), sysctl and environment
// names with their dots (ros.sysctl.net.ipv4.ip_forward). Get returns the
// value in generic YAML form, ErrNotSet for a key the config leaves out
// and ErrUnknownKey, with the nearest key suggested, for a key no config
// has. Set replaces the value at the key with a YAML value and checks the
// result as Parse does. Diff lists the keys two configs differ in, at the
// granularity they are applied (hostname, users, ros.network, ros.sysctl …).
//
// # Secrets
//
// Export renders a config as YAML. Without private, fields tagged
// secret:"true" (passwords, password hashes, private host keys) become
// "<redacted>", and the passwords in URLs tagged secret:"url" (proxies,
// the upgrade URL) too. Contents of write_files, environment values and
// service definitions are not secrets by tag and are exported as given.
package cloudconfig
