package localcloud

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// moto's RegisterImage ignores everything but the name and description:
// a registered image gets moto's defaults (root device /dev/sda1 of type
// "standard", a 15 GiB snapshot moto makes for it, no architecture or
// virtualization type, boot mode uefi), and its copies the same. The
// layer checks what EC2 checks of a RegisterImage from snapshots, records
// what was asked, shows it in DescribeImages, and hides moto's own
// snapshot of the image. A copy of such an image gets the source's
// mappings, with moto's snapshot of the copy as its root device's and a
// new snapshot, sharing the source snapshot's content, for every other
// EBS device with one (volumes_copies.go). A snapshot a registered image
// or copy maps cannot be deleted while the image exists, as on EC2.

// registered is what DescribeImages shows of an image registered from
// snapshots, or of a copy of one, instead of moto's defaults.
type registered struct {
	root     string // root device name
	attrs    [][2]string
	mappings []regMapping
}

// regMapping is one block device mapping of a registered image.
type regMapping struct {
	device, virtualName string
	noDevice            bool
	snapshot            string
	ebs                 [][2]string // the ebs element's fields but the snapshot, in EC2's order
}

// imageAttrs are the RegisterImage parameters DescribeImages shows, with
// the element name and EC2's default when the request leaves them out.
var imageAttrs = []struct{ param, elem, def string }{
	{"Architecture", "architecture", "i386"},
	{"VirtualizationType", "virtualizationType", "paravirtual"},
	{"BootMode", "bootMode", ""},
	{"EnaSupport", "enaSupport", ""},
	{"SriovNetSupport", "sriovNetSupport", ""},
	{"TpmSupport", "tpmSupport", ""},
	{"ImdsSupport", "imdsSupport", ""},
}

// addRegisterHooks adds the hooks of images registered from snapshots.
func (p *proxy) addRegisterHooks(hooks map[string]hook) {
	wrapBefore(hooks, "RegisterImage", p.checkRegisterFromSnapshots)
	wrapAfter(hooks, "RegisterImage", p.afterRegisterFromSnapshots, false)
	wrapAfter(hooks, "CopyImage", p.afterCopyRegistered, false)
	wrapAfter(hooks, "DescribeImages", p.showRegistered, false)
	wrapAfter(hooks, "DeregisterImage", p.afterDeregisterRegistered, false)
	wrapAfter(hooks, "DescribeSnapshots", p.hideRegisteredSnapshots, false)
	wrapBefore(hooks, "DeleteSnapshot", p.refuseSnapshotInUse)
}

// checkRegisterFromSnapshots refuses what EC2 refuses of a RegisterImage
// without ImageLocation: TagSpecifications for anything but the image,
// a snapshot that does not exist, and a volume smaller than its snapshot.
func (p *proxy) checkRegisterFromSnapshots(old beforeFunc) beforeFunc {
	return func(ctx context.Context, r *request) (*node, *apiError) {
		if r.form.Get("ImageLocation") == "" {
			if aerr := p.checkRegister(ctx, r); aerr != nil {
				return nil, aerr
			}
		}
		if old == nil {
			return nil, nil
		}
		return old(ctx, r)
	}
}

func (p *proxy) checkRegister(ctx context.Context, r *request) *apiError {
	for i := 1; ; i++ {
		rt := r.form.Get(fmt.Sprintf("TagSpecification.%d.ResourceType", i))
		if rt == "" {
			break
		}
		if rt != "image" {
			return &apiError{http.StatusBadRequest, "InvalidParameterValue",
				fmt.Sprintf("'%s' is not a valid taggable resource type for this operation.", rt)}
		}
	}
	for _, m := range requestedMappings(r) {
		if m.snapshot == "" {
			continue
		}
		size, aerr := p.snapshotSize(ctx, r.region, m.snapshot)
		if aerr != nil {
			return aerr
		}
		if want := r.form.Get(m.param + "Ebs.VolumeSize"); want != "" {
			if n, err := strconv.Atoi(want); err == nil && n < size {
				return &apiError{http.StatusBadRequest, "InvalidBlockDeviceMapping",
					fmt.Sprintf("Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", n, m.snapshot, size)}
			}
		}
	}
	return nil
}

// snapshotSize returns a snapshot's volume size in GiB, or EC2's error
// for a snapshot that does not exist.
func (p *proxy) snapshotSize(ctx context.Context, region, id string) (int, *apiError) {
	resp, err := p.call(ctx, region, url.Values{"Action": {"DescribeSnapshots"}, "SnapshotId.1": {id}})
	if ae, ok := err.(*apiError); err != nil && (!ok || ae.code != "InvalidSnapshot.NotFound") {
		return 0, &apiError{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	items := resp.items("snapshotSet")
	if len(items) == 0 || p.machines.ebs.hiddenIn(region, id) != "" {
		return 0, &apiError{http.StatusBadRequest, "InvalidSnapshot.NotFound", fmt.Sprintf("The snapshot '%s' does not exist.", id)}
	}
	n, _ := strconv.Atoi(items[0].value("volumeSize"))
	return n, nil
}

// requested is one BlockDeviceMapping.N of a request.
type requested struct {
	param    string // "BlockDeviceMapping.N."
	device   string
	snapshot string
}

func requestedMappings(r *request) []requested {
	var out []requested
	for i := 1; ; i++ {
		prefix := fmt.Sprintf("BlockDeviceMapping.%d.", i)
		dev := r.form.Get(prefix + "DeviceName")
		if dev == "" {
			return out
		}
		out = append(out, requested{param: prefix, device: dev, snapshot: r.form.Get(prefix + "Ebs.SnapshotId")})
	}
}

// afterRegisterFromSnapshots records what the RegisterImage asked and
// hides moto's own snapshot of the image.
func (p *proxy) afterRegisterFromSnapshots(ctx context.Context, r *request, resp *node) {
	id := resp.value("imageId")
	if id == "" || r.form.Get("ImageLocation") != "" {
		return
	}
	reg := &registered{root: r.form.Get("RootDeviceName")}
	for _, a := range imageAttrs {
		if v := r.form.Get(a.param); v != "" || a.def != "" {
			reg.attrs = append(reg.attrs, [2]string{a.elem, cmp.Or(v, a.def)})
		}
	}
	for _, m := range requestedMappings(r) {
		reg.mappings = append(reg.mappings, p.registerMapping(ctx, r, m))
	}
	own, err := p.snapshotsOf(ctx, r.region, id)
	if err != nil {
		p.log.Error("find moto's snapshot of a registered image", "image", id, "region", r.region, "error", err)
	}
	p.machines.ebs.record(r.region, id, reg, own)
}

// registerMapping returns what DescribeImages shows of a requested
// mapping: EC2's defaults for what it leaves out (a volume of its
// snapshot's size, gp2, deleted on termination, encrypted as the
// snapshot).
func (p *proxy) registerMapping(ctx context.Context, r *request, m requested) regMapping {
	get := func(k string) string { return r.form.Get(m.param + k) }
	out := regMapping{device: m.device, virtualName: get("VirtualName"), snapshot: m.snapshot}
	if _, ok := r.form[m.param+"NoDevice"]; ok {
		out.noDevice = true
		return out
	}
	if out.virtualName != "" {
		return out
	}
	size := get("Ebs.VolumeSize")
	if size == "" && m.snapshot != "" {
		n, _ := p.snapshotSize(ctx, r.region, m.snapshot)
		size = strconv.Itoa(n)
	}
	out.ebs = [][2]string{
		{"deleteOnTermination", cmp.Or(get("Ebs.DeleteOnTermination"), "true")},
		{"volumeSize", size},
		{"volumeType", cmp.Or(get("Ebs.VolumeType"), "gp2")},
		{"iops", get("Ebs.Iops")},
		{"throughput", get("Ebs.Throughput")},
		{"encrypted", cmp.Or(get("Ebs.Encrypted"), "false")},
	}
	return out
}

// record keeps an image's registration; own are moto's snapshots of it,
// which are hidden.
func (e *ebsState) record(region, id string, reg *registered, own []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.images == nil {
		e.images, e.hidden = map[string]*registered{}, map[string]string{}
	}
	e.images[region+"/"+id] = reg
	for _, s := range own {
		e.hidden[region+"/"+s] = id
	}
}

// registration returns the registration of an image, or nil.
func (e *ebsState) registration(region, id string) *registered {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.images[region+"/"+id]
}

// hiddenIn returns the image whose moto snapshot id is, or "".
func (e *ebsState) hiddenIn(region, id string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hidden[region+"/"+id]
}

// showRegistered makes DescribeImages show registered images and their
// copies as they were asked for.
func (p *proxy) showRegistered(_ context.Context, r *request, resp *node) {
	for _, item := range resp.items("imagesSet") {
		reg := p.machines.ebs.registration(r.region, item.value("imageId"))
		if reg == nil {
			continue
		}
		item.set("rootDeviceName", reg.root)
		item.set("rootDeviceType", "ebs")
		drop(item, "bootMode")
		for _, a := range reg.attrs {
			item.set(a[0], a[1])
		}
		set := item.set("blockDeviceMapping", "")
		for _, m := range reg.mappings {
			set.children = append(set.children, m.node())
		}
	}
}

// node returns the blockDeviceMapping item of m.
func (m regMapping) node() *node {
	n := &node{name: "item"}
	n.set("deviceName", m.device)
	switch {
	case m.noDevice:
		n.set("noDevice", "")
	case m.virtualName != "":
		n.set("virtualName", m.virtualName)
	default:
		ebs := n.set("ebs", "")
		if m.snapshot != "" {
			ebs.set("snapshotId", m.snapshot)
		}
		for _, f := range m.ebs {
			if f[1] != "" {
				ebs.set(f[0], f[1])
			}
		}
	}
	return n
}

// drop removes n's children named name.
func drop(n *node, name string) {
	kept := n.children[:0]
	for _, c := range n.children {
		if c.name != name {
			kept = append(kept, c)
		}
	}
	n.children = kept
}
