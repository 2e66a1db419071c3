package rootfs

import (
	"archive/tar"
	"path"
	"strings"
)

// emptied are the directories whose content ec2-bundle-vol leaves out of a
// volume: device nodes, mount points and kernel file systems. The
// directories themselves are kept as mount points.
var emptied = []string{"dev/", "media/", "mnt/", "proc/", "sys/"}

// secretNames is ec2-bundle-vol's default file filter (its --no-filter
// turns it off): editor leftovers, private keys, key stores, keyrings.
var secretNames = []string{"#*#", ".#*", "*.sw", "*.swo", "*.swp", "*~", "*.pem", "*.priv", "*id_rsa*", "*id_dsa*", "*.gpg", "*.jks"}

// secretPaths are the filter's path patterns: SSH logins and shell history.
var secretPaths = []string{".ssh/authorized_keys", ".bash_history"}

// certStores hold public CA certificates named *.pem; they are kept.
var certStores = []string{"etc/ssl/certs/", "usr/share/ca-certificates/", "etc/ca-certificates/", "etc/pki/ca-trust/", "usr/local/share/ca-certificates/"}

// Exclude reports whether a member of a root file system stream stays out
// of the image: the content of /dev, /media, /mnt, /proc and /sys, and the
// files ec2-bundle-vol's default filter leaves out (editor leftovers,
// *.pem, *.priv, *id_rsa*, *id_dsa*, *.gpg, *.jks, .ssh/authorized_keys
// and .bash_history anywhere), so that no key or login a build used is
// baked into the image. Unlike ec2-bundle-vol it keeps the system's CA
// certificates (*.pem in the certificate stores, and symbolic links named
// *.pem), so the image can still verify TLS peers.
func Exclude(h *tar.Header) bool {
	name := clean(h.Name)
	for _, d := range emptied {
		if strings.HasPrefix(name, d) {
			return true
		}
	}
	if h.Typeflag == tar.TypeDir {
		return false
	}
	base := path.Base(name)
	for _, p := range secretPaths {
		if name == p || strings.HasSuffix(name, "/"+p) {
			return true
		}
	}
	for _, pat := range secretNames {
		if ok, _ := path.Match(pat, base); !ok {
			continue
		}
		if pat == "*.pem" && (h.Typeflag == tar.TypeSymlink || inCertStore(name)) {
			continue
		}
		return true
	}
	return false
}

func inCertStore(name string) bool {
	for _, d := range certStores {
		if strings.HasPrefix(name, d) {
			return true
		}
	}
	return false
}
