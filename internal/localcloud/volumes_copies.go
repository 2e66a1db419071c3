package localcloud

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The copies of images registered from snapshots, and what the layer
// does with their snapshots (see volumes_images.go).

// afterCopyRegistered gives the copy of a registered image the source's
// registration: moto's snapshot of the copy (which follows the copy's
// progress and holds its content, images.go) is its root device's, and
// every other EBS device with a snapshot gets a new one, with the source
// snapshot's content and the copy's snapshot tags.
func (p *proxy) afterCopyRegistered(ctx context.Context, r *request, resp *node) {
	id := resp.value("imageId")
	src := p.machines.ebs.registration(r.form.Get("SourceRegion"), r.form.Get("SourceImageId"))
	if id == "" || src == nil || p.machines.ebs.registration(r.region, id) != nil {
		return
	}
	own, err := p.snapshotsOf(ctx, r.region, id)
	if err != nil || len(own) == 0 {
		p.log.Error("find moto's snapshot of a copy", "image", id, "region", r.region, "error", err)
		return
	}
	cp := &registered{root: src.root, attrs: src.attrs}
	var made []string
	for _, m := range src.mappings {
		switch {
		case m.snapshot == "":
		case m.device == src.root:
			m.snapshot = own[0]
		default:
			s, err := p.copySnapshot(ctx, r, m)
			if err != nil {
				p.log.Error("copy a snapshot of a registered image", "image", id, "snapshot", m.snapshot, "region", r.region, "error", err)
			}
			m.snapshot = s
			made = append(made, s)
		}
		cp.mappings = append(cp.mappings, m)
	}
	p.world.imageSnapshots(r.region, id, made)
	if err := p.createTags(ctx, r.region, made, r.tags["snapshot"]); err != nil {
		p.log.Error("apply snapshot tags", "image", id, "region", r.region, "error", err)
	}
	hide := own
	if cp.rootSnapshot() == own[0] {
		hide = own[1:]
	}
	p.machines.ebs.record(r.region, id, cp, hide)
}

// rootSnapshot returns the snapshot of the root device, or "".
func (reg *registered) rootSnapshot() string {
	for _, m := range reg.mappings {
		if m.device == reg.root {
			return m.snapshot
		}
	}
	return ""
}

// copySnapshot makes the copy, in the request's region, of a mapping's
// snapshot in the source region: a moto snapshot of a volume of the
// mapping's size, holding the source snapshot's content.
func (p *proxy) copySnapshot(ctx context.Context, r *request, m regMapping) (string, error) {
	size := "1"
	for _, f := range m.ebs {
		if f[0] == "volumeSize" && f[1] != "" {
			size = f[1]
		}
	}
	vol, err := p.call(ctx, r.region, url.Values{"Action": {"CreateVolume"}, "Size": {size}, "AvailabilityZone": {r.region + "a"}})
	if err != nil {
		return "", err
	}
	volID := vol.value("volumeId")
	snap, err := p.call(ctx, r.region, url.Values{"Action": {"CreateSnapshot"}, "VolumeId": {volID},
		"Description": {"Copied for DestinationAmi from " + m.snapshot}})
	if _, derr := p.call(ctx, r.region, url.Values{"Action": {"DeleteVolume"}, "VolumeId": {volID}}); derr != nil {
		p.log.Warn("delete the volume of a copied snapshot", "volume", volID, "region", r.region, "error", derr)
	}
	if err != nil {
		return "", err
	}
	id := snap.value("snapshotId")
	p.world.created(r.region, id)
	p.machines.share(snapshotHolder(r.form.Get("SourceRegion"), m.snapshot), snapshotHolder(r.region, id))
	return id, nil
}

// afterDeregisterRegistered forgets a deregistered image's registration
// and deletes moto's hidden snapshots of it.
func (p *proxy) afterDeregisterRegistered(ctx context.Context, r *request, _ *node) {
	id := r.form.Get("ImageId")
	for _, s := range p.machines.ebs.forget(r.region, id) {
		if _, err := p.call(ctx, r.region, url.Values{"Action": {"DeleteSnapshot"}, "SnapshotId": {s}}); err != nil {
			p.log.Warn("delete moto's snapshot of a deregistered image", "image", id, "snapshot", s, "region", r.region, "error", err)
		}
	}
}

// forget drops an image's registration and returns its hidden snapshots.
func (e *ebsState) forget(region, id string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.images, region+"/"+id)
	var own []string
	for key, img := range e.hidden {
		if s, ok := strings.CutPrefix(key, region+"/"); ok && img == id {
			own = append(own, s)
			delete(e.hidden, key)
		}
	}
	return own
}

// hideRegisteredSnapshots removes moto's own snapshots of registered
// images from DescribeSnapshots.
func (p *proxy) hideRegisteredSnapshots(_ context.Context, r *request, resp *node) {
	set := resp.child("snapshotSet")
	if set == nil {
		return
	}
	kept := set.children[:0]
	for _, item := range set.children {
		if p.machines.ebs.hiddenIn(r.region, item.value("snapshotId")) == "" {
			kept = append(kept, item)
		}
	}
	set.children = kept
}

// refuseSnapshotInUse refuses to delete a snapshot a registered image (or
// a copy of one) maps, and one that is hidden.
func (p *proxy) refuseSnapshotInUse(old beforeFunc) beforeFunc {
	return func(ctx context.Context, r *request) (*node, *apiError) {
		id := r.form.Get("SnapshotId")
		if p.machines.ebs.hiddenIn(r.region, id) != "" {
			return nil, errNotFound(id)
		}
		if img := p.machines.ebs.usedBy(r.region, id); img != "" {
			return nil, &apiError{http.StatusBadRequest, "InvalidSnapshot.InUse",
				fmt.Sprintf("The snapshot %s is currently in use by %s", id, img)}
		}
		if old == nil {
			return nil, nil
		}
		return old(ctx, r)
	}
}

// usedBy returns a registered image of region that maps snapshot, or "".
func (e *ebsState) usedBy(region, snapshot string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for key, reg := range e.images {
		id, ok := strings.CutPrefix(key, region+"/")
		if !ok {
			continue
		}
		for _, m := range reg.mappings {
			if m.snapshot == snapshot {
				return id
			}
		}
	}
	return ""
}
