package localcloud

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// How instance-store images and their instances look: DescribeImages
// reports root device type instance-store, the manifest location, the
// architecture and virtualization type, no EBS mapping (moto keeps a
// snapshot for every image; the layer does not show it); an instance of
// such an image has root
// device type instance-store and cannot be stopped. The catalogue's
// instance-store images (moto knows their root device type) lose moto's
// EBS mapping too.

// filter is one Filter.N of a Describe request.
type filter struct {
	name   string
	values []string
}

// layerImageFilters maps the DescribeImages filters the layer applies
// itself, on what it shows (moto's values differ for the images it
// registered: instance-store ones, those registered from snapshots; moto
// lacks manifest-location), to the response field each tests.
var layerImageFilters = map[string]string{
	"architecture":        "architecture",
	"image-type":          "imageType",
	"manifest-location":   "imageLocation",
	"platform":            "platform",
	"root-device-name":    "rootDeviceName",
	"root-device-type":    "rootDeviceType",
	"virtualization-type": "virtualizationType",
}

// beforeDescribeImageFilters takes the filters of layerImageFilters out
// of the request, for filterImages.
func (p *proxy) beforeDescribeImageFilters(old beforeFunc) beforeFunc {
	return func(ctx context.Context, r *request) (*node, *apiError) {
		var kept []filter
		for _, f := range r.filtersOf() {
			if _, ok := layerImageFilters[f.name]; ok {
				r.filters = append(r.filters, f)
			} else {
				kept = append(kept, f)
			}
		}
		if len(r.filters) > 0 {
			r.setFilters(kept)
		}
		if old != nil {
			return old(ctx, r)
		}
		return nil, nil
	}
}

// filtersOf returns the request's Filter.N parameters.
func (r *request) filtersOf() []filter {
	var out []filter
	for i := 1; ; i++ {
		name := r.form.Get(fmt.Sprintf("Filter.%d.Name", i))
		if name == "" {
			return out
		}
		out = append(out, filter{name: name, values: r.values(fmt.Sprintf("Filter.%d.Value", i))})
	}
}

// setFilters replaces the request's filters, numbered from 1 (moto stops
// at the first missing number).
func (r *request) setFilters(fs []filter) {
	for k := range r.form {
		if strings.HasPrefix(k, "Filter.") {
			delete(r.form, k)
		}
	}
	for i, f := range fs {
		r.form.Set(fmt.Sprintf("Filter.%d.Name", i+1), f.name)
		for j, v := range f.values {
			r.form.Set(fmt.Sprintf("Filter.%d.Value.%d", i+1, j+1), v)
		}
	}
}

func (p *proxy) afterDescribeStoreImages(_ context.Context, r *request, resp *node) {
	for _, item := range resp.items("imagesSet") {
		if rec := p.bundles.image(r.region, item.value("imageId")); rec != nil {
			rec.show(item)
		} else if item.value("rootDeviceType") == "instance-store" {
			dropEBSMappings(item, "")
		}
	}
}

// addImageFilterHook makes DescribeImages apply the filters
// beforeDescribeImageFilters took out, on the images as the layer shows
// them: it must be added after every hook that rewrites them.
func (p *proxy) addImageFilterHook(hooks map[string]hook) {
	wrapBefore(hooks, "DescribeImages", p.beforeDescribeImageFilters)
	wrapAfter(hooks, "DescribeImages", filterImages, false)
}

// filterImages drops the images that do not pass the request's filters.
func filterImages(_ context.Context, r *request, resp *node) {
	set := resp.child("imagesSet")
	if set == nil || len(r.filters) == 0 {
		return
	}
	kept := set.children[:0]
	for _, item := range set.children {
		if item.name != "item" || matchAll(item, r.filters, layerImageFilters) {
			kept = append(kept, item)
		}
	}
	set.children = kept
}

// show writes what an instance-store image is into its DescribeImages item.
func (s *storeImage) show(item *node) {
	item.set("imageLocation", s.location)
	item.set("imageType", "machine")
	item.set("architecture", s.arch)
	item.set("virtualizationType", s.virt)
	item.set("rootDeviceType", "instance-store")
	item.set("rootDeviceName", s.rootDevice)
	item.set("hypervisor", "xen")
	if s.windows {
		item.set("platform", "windows")
		item.set("platformDetails", "Windows")
	}
	bdm := item.set("blockDeviceMapping", "")
	for _, m := range s.ephemeral {
		e := &node{name: "item"}
		e.set("deviceName", m.Device)
		e.set("virtualName", m.Virtual)
		bdm.children = append(bdm.children, e)
	}
}

// dropEBSMappings removes an item's EBS block device mappings (only the
// one of device root when root is set).
func dropEBSMappings(item *node, root string) {
	bdm := item.child("blockDeviceMapping")
	if bdm == nil {
		return
	}
	kept := bdm.children[:0]
	for _, m := range bdm.children {
		if m.child("ebs") == nil || (root != "" && m.value("deviceName") != root) {
			kept = append(kept, m)
		}
	}
	bdm.children = kept
}

// matchAll reports whether item passes every filter: one of a filter's
// values (with EC2's * and ? wildcards) matches the item's field.
func matchAll(item *node, filters []filter, fields map[string]string) bool {
	for _, f := range filters {
		got := item.value(fields[f.name])
		if !slices.ContainsFunc(f.values, func(v string) bool { return wildcard(v).MatchString(got) }) {
			return false
		}
	}
	return true
}

// wildcard compiles an EC2 filter value: * matches any run of characters,
// ? any one.
func wildcard(v string) *regexp.Regexp {
	q := regexp.QuoteMeta(v)
	q = strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(q)
	return regexp.MustCompile("^" + q + "$")
}

// afterRunFromStore marks the instances of an instance-store image; an
// instance of a bundle made from Windows is a Windows instance (moto
// knows nothing of the image's platform).
func (p *proxy) afterRunFromStore(_ context.Context, r *request, resp *node) {
	image := r.form.Get("ImageId")
	rec := p.bundles.image(r.region, image)
	if rec == nil && !catalogueInstanceStore(r.region, image) {
		return
	}
	inst := &storeInstance{windows: rec != nil && rec.windows}
	for _, item := range resp.items("instancesSet") {
		p.bundles.addInstance(r.region, item.value("instanceId"), inst)
		inst.show(item)
	}
}

func (p *proxy) afterDescribeStoreInstances(_ context.Context, r *request, resp *node) {
	for _, res := range resp.items("reservationSet") {
		for _, item := range res.items("instancesSet") {
			if inst := p.bundles.instance(r.region, item.value("instanceId")); inst != nil {
				inst.show(item)
			}
		}
	}
}

// show writes what an instance of an instance-store image is into its
// item: moto gives every instance an EBS root volume.
func (s *storeInstance) show(item *node) {
	item.set("rootDeviceType", "instance-store")
	dropEBSMappings(item, item.value("rootDeviceName"))
	if s.windows {
		item.set("platform", "windows")
		item.set("platformDetails", "Windows")
	}
}

// refuseStoreStop refuses to stop an instance-store instance, in EC2's
// words (as AWS answers them, quoted in vagrant-aws and Eucalyptus
// reports; the API reference's error codes name UnsupportedOperation for
// it).
func (p *proxy) refuseStoreStop(old beforeFunc) beforeFunc {
	return func(ctx context.Context, r *request) (*node, *apiError) {
		for _, id := range r.values("InstanceId") {
			if p.bundles.instance(r.region, id) != nil {
				return nil, &apiError{http.StatusBadRequest, "UnsupportedOperation",
					fmt.Sprintf("The instance '%s' does not have an 'ebs' root device type and cannot be stopped.", id)}
			}
		}
		if old != nil {
			return old(ctx, r)
		}
		return nil, nil
	}
}

// hideStoreSnapshots leaves moto's snapshots of instance-store images out
// of DescribeSnapshots.
func (p *proxy) hideStoreSnapshots(_ context.Context, r *request, resp *node) {
	set := resp.child("snapshotSet")
	if set == nil {
		return
	}
	hidden := p.bundles.storeSnapshots(r.region)
	if len(hidden) == 0 {
		return
	}
	kept := set.children[:0]
	for _, item := range set.children {
		if !hidden[item.value("snapshotId")] {
			kept = append(kept, item)
		}
	}
	set.children = kept
}

func (b *bundles) storeSnapshots(region string) map[string]bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]bool{}
	for k, im := range b.images {
		if strings.HasPrefix(k, region+"/") {
			for _, s := range im.snapshots {
				out[s] = true
			}
		}
	}
	return out
}

func (b *bundles) addInstance(region, id string, s *storeInstance) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.instances[region+"/"+id] = s
}

func (b *bundles) instance(region, id string) *storeInstance {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.instances[region+"/"+id]
}

// catalogueInstanceStore reports whether id is one of the catalogue's
// instance-store images in region.
func catalogueInstanceStore(region, id string) bool {
	for _, im := range catalogue {
		if im.instanceStore && catalogueID(region, im.name) == id {
			return true
		}
	}
	return false
}
