package localcloud

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/imgbuild/imgbuild/internal/guest"
)

// An EBS volume of a RunInstances block device mapping other than the
// instance's root device is, for the instance's Linux guest, a directory
// mounted at volumePath(device): /mnt/xvdf for /dev/xvdf. What the guest
// writes there is the volume's content, kept apart from the instance's
// disk: it survives StopInstances, and TerminateInstances when the
// mapping does not delete the volume on termination, until DeleteVolume.
// A volume created from a snapshot (the mapping's SnapshotId) starts with
// the snapshot's content. CreateSnapshot of such a volume captures its
// content as the snapshot's layer, as CreateImage does for the root; an
// image registered with that snapshot as its root device boots it
// (images.go), over the guests' base system.

// volume is an EBS volume whose content a guest sees.
type volume struct {
	instance            string // "" once detached by a termination
	device              string
	path                string // where the guest sees it
	deleteOnTermination bool
	dir                 string // guest.Volume.Dir
}

// ebsState is what the layer knows about EBS beyond moto: the volumes
// guests see, and the images registered from snapshots (volumes_images.go).
type ebsState struct {
	mu     sync.Mutex
	vols   map[string]*volume     // region/volume ID
	images map[string]*registered // region/image ID
	hidden map[string]string      // region/snapshot ID -> image: moto's own snapshots of registered images
}

// deviceNameRE matches the device names a guest mounts: an optional
// /dev/ and one name of lower-case letters and digits.
var deviceNameRE = regexp.MustCompile(`^(?:/dev/)?([a-z][a-z0-9]*)$`)

// volumePath returns where a guest sees the volume of device: /mnt/ and
// the device's name without /dev/ ("/dev/sdf" gives /mnt/sdf, "xvdg"
// /mnt/xvdg), or "" for a device name of another form, whose volume the
// guest does not see.
func volumePath(device string) string {
	m := deviceNameRE.FindStringSubmatch(device)
	if m == nil {
		return ""
	}
	return "/mnt/" + m[1]
}

func volumeHolder(region, id string) string { return "volume " + region + "/" + id }

// addVolumeHooks adds the volumes' part of the layer: launch volumes for
// the guests, snapshots of their content, and images registered from
// snapshots (volumes_images.go).
func (p *proxy) addVolumeHooks(hooks map[string]hook) {
	// Before RunInstances' own hook boots the guests, which mount them.
	wrapAfter(hooks, "RunInstances", p.afterRunVolumes, true)
	wrapAfter(hooks, "TerminateInstances", p.afterTerminateVolumes, false)
	hooks["DeleteVolume"] = hook{after: p.afterDeleteVolume}
	createSnapshot := hooks["CreateSnapshot"].after
	hooks["CreateSnapshot"] = hook{before: hooks["CreateSnapshot"].before, after: func(ctx context.Context, r *request, resp *node) {
		if !p.afterVolumeSnapshot(ctx, r, resp) && createSnapshot != nil {
			createSnapshot(ctx, r, resp)
		}
	}}
	p.addRegisterHooks(hooks)
}

// afterRunVolumes records the new instances' volumes other than their
// root volume, each with the content of the snapshot it was made from.
func (p *proxy) afterRunVolumes(_ context.Context, r *request, resp *node) {
	if !p.machines.guests {
		return
	}
	for _, item := range resp.items("instancesSet") {
		id, root := item.value("instanceId"), item.value("rootDeviceName")
		for _, m := range item.items("blockDeviceMapping") {
			dev, vol := m.value("deviceName"), m.path("ebs", "volumeId")
			if dev == root || vol == nil || vol.text == "" {
				continue
			}
			path := volumePath(dev)
			if path == "" {
				p.log.Warn("the guest does not see a volume of this device name", "instance", id, "device", dev)
				continue
			}
			del := m.path("ebs", "deleteOnTermination") != nil && m.path("ebs", "deleteOnTermination").text == "true"
			p.machines.addVolume(r.region, vol.text, &volume{instance: id, device: dev, path: path, deleteOnTermination: del},
				requestedSnapshot(r, dev))
		}
	}
}

// requestedSnapshot returns the snapshot a RunInstances block device
// mapping of device creates its volume from.
func requestedSnapshot(r *request, device string) string {
	for i := 1; ; i++ {
		prefix := fmt.Sprintf("BlockDeviceMapping.%d.", i)
		dev := r.form.Get(prefix + "DeviceName")
		switch {
		case dev == "":
			return ""
		case dev == device:
			return r.form.Get(prefix + "Ebs.SnapshotId")
		}
	}
}

// addVolume records a volume and has it hold the layers of the snapshot
// it is made from.
func (m *machines) addVolume(region, id string, v *volume, snapshot string) {
	var stack []string
	if snapshot != "" {
		stack, _ = m.store.Stack(snapshotHolder(region, snapshot))
	}
	m.store.Hold(volumeHolder(region, id), stack)
	v.dir = filepath.Join(m.state, "volumes", region+"-"+id)
	// A guest mounts it (guest.New makes the rest); a snapshot of a
	// volume no guest mounted is empty.
	if err := os.MkdirAll(filepath.Join(v.dir, "upper"), 0o755); err != nil {
		m.log.Warn("create volume content", "volume", id, "region", region, "error", err)
	}
	m.ebs.mu.Lock()
	defer m.ebs.mu.Unlock()
	if m.ebs.vols == nil {
		m.ebs.vols = map[string]*volume{}
	}
	m.ebs.vols[region+"/"+id] = v
}

// guestVolumes returns the volumes an instance's guest mounts.
func (m *machines) guestVolumes(region, instance string) []guest.Volume {
	m.ebs.mu.Lock()
	defer m.ebs.mu.Unlock()
	var out []guest.Volume
	for key, v := range m.ebs.vols {
		id, ok := strings.CutPrefix(key, region+"/")
		if !ok || v.instance != instance {
			continue
		}
		stack, _ := m.store.Stack(volumeHolder(region, id))
		out = append(out, guest.Volume{Path: v.path, Dir: v.dir, Lowers: m.store.Lowers(stack, "")})
	}
	slices.SortFunc(out, func(a, b guest.Volume) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// volumeOf returns the record of a volume a guest sees, or nil.
func (m *machines) volumeOf(region, id string) *volume {
	m.ebs.mu.Lock()
	defer m.ebs.mu.Unlock()
	return m.ebs.vols[region+"/"+id]
}

// afterVolumeSnapshot captures the content of a volume a guest sees as
// the new snapshot's, and reports whether the volume was one (otherwise
// CreateSnapshot's own hook takes the instance's root disk).
func (p *proxy) afterVolumeSnapshot(_ context.Context, r *request, resp *node) bool {
	id, volID := resp.value("snapshotId"), r.form.Get("VolumeId")
	v := p.machines.volumeOf(r.region, volID)
	if id == "" || v == nil {
		return false
	}
	p.world.created(r.region, id)
	below, _ := p.machines.store.Stack(volumeHolder(r.region, volID))
	if _, err := p.machines.store.Capture(snapshotHolder(r.region, id), below, filepath.Join(v.dir, "upper")); err != nil {
		p.log.Error("capture a snapshot's content", "snapshot", id, "volume", volID, "region", r.region, "error", err)
	}
	return true
}

// afterTerminateVolumes deletes the volumes the terminated instances
// delete on termination, and detaches the others.
func (p *proxy) afterTerminateVolumes(_ context.Context, r *request, _ *node) {
	for _, instance := range r.values("InstanceId") {
		for _, id := range p.machines.detachVolumes(r.region, instance) {
			p.machines.removeVolume(r.region, id)
		}
	}
}

// detachVolumes detaches an instance's volumes and returns those deleted
// on termination.
func (m *machines) detachVolumes(region, instance string) []string {
	m.ebs.mu.Lock()
	defer m.ebs.mu.Unlock()
	var gone []string
	for key, v := range m.ebs.vols {
		id, ok := strings.CutPrefix(key, region+"/")
		if !ok || v.instance != instance {
			continue
		}
		v.instance = ""
		if v.deleteOnTermination {
			gone = append(gone, id)
		}
	}
	return gone
}

func (p *proxy) afterDeleteVolume(_ context.Context, r *request, _ *node) {
	p.machines.removeVolume(r.region, r.form.Get("VolumeId"))
}

// removeVolume deletes a volume's content and drops its layers.
func (m *machines) removeVolume(region, id string) {
	m.ebs.mu.Lock()
	v := m.ebs.vols[region+"/"+id]
	delete(m.ebs.vols, region+"/"+id)
	m.ebs.mu.Unlock()
	if v == nil {
		return
	}
	if err := os.RemoveAll(v.dir); err != nil {
		m.log.Warn("remove volume content", "volume", id, "region", region, "error", err)
	}
	m.release(volumeHolder(region, id))
}
