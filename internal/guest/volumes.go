package guest

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// Volume is an extra disk of a guest (on the local cloud, an EBS volume
// of a launch block device mapping): a directory of the host that the
// guest sees mounted at Path, read-write. Its content lives apart from
// the guest's own disk, so that it can outlive the guest.
//
// The host mounts each volume under the guest's fresh /run before the
// switch of root (a bind mount of Dir/upper, or an overlay of Dir/upper
// over Lowers), and the guest's init moves it to Path once the host's
// tree is gone, so that the guest's own symbolic links resolve inside the
// guest. A volume that cannot be mounted at Path is reported on the
// console and left out.
type Volume struct {
	// Path is where the guest sees the volume, an absolute path such as
	// "/mnt/xvdf"; missing directories are created.
	Path string
	// Dir holds the volume: its content in Dir/upper and, with Lowers,
	// the overlay's work directory Dir/work. New creates them.
	Dir string
	// Lowers are the content layers the volume was created from (a
	// snapshot's), topmost first; without any, the guest sees Dir/upper
	// itself.
	Lowers []string
}

// Upper returns the directory holding what the volume holds beyond its
// Lowers (everything, without Lowers).
func (v Volume) Upper() string { return filepath.Join(v.Dir, "upper") }

// prepareVolumes checks the volumes of a guest and creates their
// directories.
func prepareVolumes(instance string, vols []Volume) error {
	for _, v := range vols {
		if !path.IsAbs(v.Path) || path.Clean(v.Path) != v.Path || v.Path == "/" || strings.ContainsAny(v.Path, "\t\n") {
			return fmt.Errorf("guest %s: volume path %q must be a clean absolute path other than /", instance, v.Path)
		}
		if strings.ContainsAny(v.Dir+strings.Join(v.Lowers, ""), ",:\t\n") {
			return fmt.Errorf("guest %s: volume directories must not contain ',', ':' or line breaks (%s %v)", instance, v.Dir, v.Lowers)
		}
		for _, d := range []string{"upper", "work"} {
			if err := os.MkdirAll(filepath.Join(v.Dir, d), 0o755); err != nil {
				return fmt.Errorf("create the directory of volume %s of guest %s: %w", v.Path, instance, err)
			}
		}
	}
	return nil
}

// volumesFile returns the guest's run/volumes file, which hostinit.sh and
// guestinit.sh read: one line per volume, its fields separated by tabs:
// number, path in the guest, upper and work directories, and the lower
// directories joined by ':' (empty for none).
func volumesFile(vols []Volume) string {
	var b strings.Builder
	for i, v := range vols {
		fields := []string{strconv.Itoa(i), v.Path, v.Upper(), filepath.Join(v.Dir, "work"), strings.Join(v.Lowers, ":")}
		b.WriteString(strings.Join(fields, "\t") + "\n")
	}
	return b.String()
}
