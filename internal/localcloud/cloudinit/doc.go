// Package cloudinit compiles EC2 user data into a POSIX sh script that a
// local cloud guest (Debian bookworm) runs once per instance, as root, at
// first boot, in place of cloud-init. The script honours the subset of
// cloud-init below, with cloud-init's semantics (as of cloud-init 26.2), and
// says in its output what it ignores.
//
// # Subset
//
// User data may be empty, gzip-compressed, MIME multi-part (recognised, as
// cloud-init does, by a MIME-Version header in its first 4096 bytes; parts
// may be base64 or quoted-printable, and gzip-compressed when their type is
// application/x-gzip or another gzip type), or a single part. A part's type
// comes from its first line (case-insensitive, after leading white space)
// when the user data is not MIME or the part is text/plain or
// text/x-shellscript; otherwise from its MIME type:
//
//   - "#!" (text/x-shellscript): a user script, saved as
//     /var/lib/cloud/instance/scripts/NAME (mode 0700), where NAME is the
//     part's file name (Content-Disposition) or part-NNN, NNN counting the
//     parts from 001. It runs in the final stage.
//   - "#cloud-boothook" (text/cloud-boothook): saved without that first line
//     as /var/lib/cloud/instance/boothooks/NAME and run at once, before the
//     modules.
//   - "#cloud-config" (text/cloud-config): YAML, read as PyYAML does (yes,
//     no, on and off are booleans; 0644 is octal; merge keys (<<) are not
//     supported). Several parts merge as cloud-init's default
//     dict(replace)+list()+str(): a later part's top-level key replaces the
//     earlier value whole.
//
// The cloud-config keys honoured are:
//
//   - write_files: path, content, encoding (b64, base64, gz, gzip, gz+b64,
//     gz+base64, gzip+b64, gzip+base64, text/plain; any other value means
//     plain text, with a warning), permissions (an octal string or an
//     integer; default 0644), owner ("user:group"; default root:root),
//     append, defer.
//   - users: a list (or a comma-separated string) of "default" (the
//     image's default user is left as it is), names, and mappings with
//     name, gecos, groups (a string or a list), shell,
//     sudo (a string or a list of rules; false or null: none), lock_passwd
//     (default true), homedir, primary_group, system, no_create_home and
//     ssh_authorized_keys (added to ~/.ssh/authorized_keys, 0700 directory,
//     0600 file). A user that exists keeps its account; lock_passwd, sudo
//     and keys still apply. Sudo rules go to
//     /etc/sudoers.d/90-cloud-init-users.
//   - packages (names; [name, version] means name=version), package_update
//     and package_upgrade, with DEBIAN_FRONTEND=noninteractive apt-get:
//     update (once, when any of the three is set), dist-upgrade, install.
//   - runcmd: a list of shell lines (strings) and argv lists (each element
//     quoted), saved as one sh script, /var/lib/cloud/instance/scripts/runcmd,
//     whose exit status is its last command's.
//
// Order, as cloud-init's modules: boothooks, write_files, users, runcmd
// (saved), packages, write_files with defer, then the user scripts and
// runcmd in file-name order (part-001 before runcmd).
//
// Other top-level keys print `unsupported key "X" ignored` and are skipped
// (other keys of write_files entries and users are reported too), as are
// merge_how, merge_type, Merge-Type headers, #include, #include-once,
// #cloud-config-archive, #cloud-config-jsonp, #part-handler,
// "## template: jinja" and text/x-shellscript-per-*; other content prints a
// line and is ignored. A failing module, user script or boothook, and a
// cloud-config that is not valid YAML, make the script exit 1 after every
// later step has run; a gzip part that does not decompress stops it at once.
//
// Every path the script writes is under $IMGBUILD_ROOT (empty in the guest).
// When IMGBUILD_ROOT is set, for tests on the host, the commands that act on
// the real system (useradd, groupadd, passwd, chown, apt-get) are skipped
// with a line saying so.
package cloudinit
