package localcloud

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// deprecationFormat is how DescribeImages shows DeprecationTime.
const deprecationFormat = "2006-01-02T15:04:05.000Z"

// beforeCreateImage takes the TagSpecifications out of CreateImage,
// RegisterImage and CopyImage: moto crashes on snapshot tags (CreateImage) or ignores
// them (RegisterImage); afterNewImage applies them instead.
// A name the account already uses in the region is refused, as EC2 does
// (moto accepts it).
func (p *proxy) beforeCreateImage(ctx context.Context, r *request) (*node, *apiError) {
	if aerr := p.refuseTakenName(ctx, r); aerr != nil {
		return nil, aerr
	}
	r.tags = map[string][][2]string{"image": r.tagSpecs("image"), "snapshot": r.tagSpecs("snapshot")}
	r.dropTagSpecs()
	return nil, nil
}

// beforeCopyImage answers a repeated ClientToken with the first copy (moto
// makes a new image each time) and takes the TagSpecifications out.
func (p *proxy) beforeCopyImage(ctx context.Context, r *request) (*node, *apiError) {
	if tok := r.form.Get("ClientToken"); tok != "" {
		if id, ok := p.world.madeFor(r.region, "CopyImage", tok); ok {
			return okResponse("CopyImage", &node{name: "imageId", text: id}), nil
		}
	}
	return p.beforeCreateImage(ctx, r)
}

// refuseTakenName answers InvalidAMIName.Duplicate when one of the
// account's images in the region already has the requested name.
func (p *proxy) refuseTakenName(ctx context.Context, r *request) *apiError {
	name := r.form.Get("Name")
	if name == "" {
		return nil
	}
	resp, err := p.call(ctx, r.region, url.Values{"Action": {"DescribeImages"}, "Owner.1": {"self"},
		"Filter.1.Name": {"name"}, "Filter.1.Value.1": {name}})
	if err != nil {
		p.log.Error("look for an image of the same name", "name", name, "region", r.region, "error", err)
		return nil
	}
	if items := resp.items("imagesSet"); len(items) > 0 {
		return &apiError{http.StatusBadRequest, "InvalidAMIName.Duplicate",
			fmt.Sprintf("AMI name %s is already in use by AMI %s", name, items[0].value("imageId"))}
	}
	return nil
}

// afterNewImage makes the new image pending for d, applies its tags,
// remembers a CopyImage ClientToken, and has the snapshots of an image
// being made (not registered) follow its progress.
func (p *proxy) afterNewImage(d time.Duration) func(context.Context, *request, *node) {
	return func(ctx context.Context, r *request, resp *node) {
		id := resp.value("imageId")
		if id == "" {
			return
		}
		from := r.region + "/" + r.form.Get("InstanceId")
		if r.action == "CopyImage" {
			from = r.form.Get("SourceRegion") + "/" + r.form.Get("SourceImageId")
		}
		p.world.newImage(r.region, id, r.form.Get("Name"), from, d)
		p.world.created(r.region, id)
		if tok := r.form.Get("ClientToken"); r.action == "CopyImage" && tok != "" {
			p.world.rememberToken(r.region, "CopyImage", tok, id)
		}
		if err := p.applyImageTags(ctx, r, id); err != nil {
			p.log.Error("apply image tags", "image", id, "region", r.region, "error", err)
		}
		p.imageContent(ctx, r, id)
		if r.action == "RegisterImage" && len(r.tags["snapshot"]) == 0 {
			return
		}
		snaps, err := p.snapshotsOf(ctx, r.region, id)
		if err != nil {
			p.log.Error("find the snapshots of a new image", "image", id, "region", r.region, "error", err)
			return
		}
		if r.action != "RegisterImage" {
			p.world.imageSnapshots(r.region, id, snaps)
			for _, s := range snaps {
				p.machines.share(imageHolder(r.region, id), snapshotHolder(r.region, s))
			}
		}
		if err := p.createTags(ctx, r.region, snaps, r.tags["snapshot"]); err != nil {
			p.log.Error("apply snapshot tags", "image", id, "region", r.region, "error", err)
		}
	}
}

// imageContent gives a new image its content: CreateImage captures the
// instance's disk, CopyImage shares the source image's layers,
// RegisterImage boots its root device's snapshot.
func (p *proxy) imageContent(ctx context.Context, r *request, id string) {
	if !p.machines.guests {
		return
	}
	holder := imageHolder(r.region, id)
	switch r.action {
	case "CreateImage":
		if err := p.machines.capture(ctx, r.region, r.form.Get("InstanceId"), holder, r.form.Get("NoReboot") == "true"); err != nil {
			p.log.Error("capture the image's content", "image", id, "region", r.region, "error", err)
		}
	case "CopyImage":
		p.machines.share(imageHolder(r.form.Get("SourceRegion"), r.form.Get("SourceImageId")), holder)
	case "RegisterImage":
		if snap := rootSnapshot(r); snap != "" {
			p.machines.share(snapshotHolder(r.region, snap), holder)
		}
	}
}

// rootSnapshot returns the snapshot of a RegisterImage's root device (or
// of its first block device with one).
func rootSnapshot(r *request) string {
	root, first := r.form.Get("RootDeviceName"), ""
	for i := 1; ; i++ {
		prefix := fmt.Sprintf("BlockDeviceMapping.%d.", i)
		dev := r.form.Get(prefix + "DeviceName")
		if dev == "" {
			return first
		}
		snap := r.form.Get(prefix + "Ebs.SnapshotId")
		if snap != "" && dev == root {
			return snap
		}
		if first == "" {
			first = snap
		}
	}
}

func (p *proxy) afterDeregister(_ context.Context, r *request, _ *node) {
	p.machines.release(imageHolder(r.region, r.form.Get("ImageId")))
}

// applyImageTags applies the image's TagSpecifications (and, for CopyImage
// with CopyImageTags, the source image's tags).
func (p *proxy) applyImageTags(ctx context.Context, r *request, id string) error {
	imageTags := r.tags["image"]
	if r.action == "CopyImage" && r.form.Get("CopyImageTags") == "true" {
		src, err := p.describeImage(ctx, r.form.Get("SourceRegion"), r.form.Get("SourceImageId"))
		if err != nil {
			return err
		}
		var copied [][2]string
		for _, t := range src.items("tagSet") {
			copied = append(copied, [2]string{t.value("key"), t.value("value")})
		}
		imageTags = append(copied, imageTags...)
	}
	return p.createTags(ctx, r.region, []string{id}, imageTags)
}

// snapshotsOf returns the snapshots of an image's block devices.
func (p *proxy) snapshotsOf(ctx context.Context, region, id string) ([]string, error) {
	img, err := p.describeImage(ctx, region, id)
	if err != nil {
		return nil, err
	}
	var snaps []string
	img.walk(func(n *node) {
		if n.name == "snapshotId" && n.text != "" {
			snaps = append(snaps, n.text)
		}
	})
	return snaps, nil
}

func (p *proxy) createTags(ctx context.Context, region string, ids []string, tags [][2]string) error {
	if len(ids) == 0 || len(tags) == 0 {
		return nil
	}
	form := url.Values{"Action": {"CreateTags"}}
	for i, id := range ids {
		form.Set("ResourceId."+strconv.Itoa(i+1), id)
	}
	for i, t := range tags {
		form.Set(fmt.Sprintf("Tag.%d.Key", i+1), t[0])
		form.Set(fmt.Sprintf("Tag.%d.Value", i+1), t[1])
	}
	_, err := p.call(ctx, region, form)
	return err
}

// describeImage returns moto's DescribeImages item for one image.
func (p *proxy) describeImage(ctx context.Context, region, id string) (*node, error) {
	resp, err := p.call(ctx, region, url.Values{"Action": {"DescribeImages"}, "ImageId.1": {id}})
	if err != nil {
		return nil, err
	}
	items := resp.items("imagesSet")
	if len(items) == 0 {
		return nil, errNotFound(id)
	}
	return items[0], nil
}

func (p *proxy) afterDescribeImages(_ context.Context, r *request, resp *node) {
	p.dropInvisible(r.region, resp, "imageId", "imagesSet")
	for _, item := range resp.items("imagesSet") {
		id := item.value("imageId")
		switch p.world.imageState(r.region, id) {
		case "pending":
			item.set("imageState", "pending")
		case "failed":
			item.set("imageState", "failed")
			reason := item.set("stateReason", "")
			reason.set("code", "Server.InternalError")
			reason.set("message", "Server.InternalError: injected image failure (local cloud fail-images setting)")
		}
		if item.value("rootDeviceType") == "standard" {
			// moto reports the volume type here; EC2 says ebs or instance-store.
			item.set("rootDeviceType", "ebs")
		}
		rootDeletedOnTermination(item)
		p.world.image(r.region, id, func(im *image) {
			if im.deprecateAt != "" {
				item.set("deprecationTime", im.deprecateAt)
			}
			prot := "disabled"
			if im.protection != "" {
				prot = im.protection
			} else if p.world.now().Before(im.cooldownEnd) {
				prot = "enabled-with-cooldown"
			}
			item.set("deregistrationProtection", prot)
		})
	}
}

// rootDeletedOnTermination makes an image's root device mapping say what
// moto does with it: moto reports deleteOnTermination false for every
// image, yet deletes the root volume of an instance launched from one, as
// EC2 does for the images it ships.
func rootDeletedOnTermination(item *node) {
	root := item.value("rootDeviceName")
	for _, m := range item.items("blockDeviceMapping") {
		if ebs := m.child("ebs"); m.value("deviceName") == root && ebs.value("deleteOnTermination") == "false" {
			ebs.set("deleteOnTermination", "true")
		}
	}
}

func (p *proxy) beforeDeregister(_ context.Context, r *request) (*node, *apiError) {
	id := r.form.Get("ImageId")
	if p.world.protected(r.region, id) {
		return nil, &apiError{http.StatusBadRequest, "OperationNotPermitted",
			fmt.Sprintf("The image %s can't be deregistered because deregistration protection is enabled. Disable deregistration protection first.", id)}
	}
	return nil, nil
}

// imageAction checks that the image exists and runs fn on its record.
func (p *proxy) imageAction(ctx context.Context, r *request, fn func(*image) *apiError) (*node, *apiError) {
	id := r.form.Get("ImageId")
	if _, err := p.describeImage(ctx, r.region, id); err != nil {
		if ae, ok := err.(*apiError); ok {
			return nil, ae
		}
		return nil, &apiError{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	var aerr *apiError
	p.world.image(r.region, id, func(im *image) { aerr = fn(im) })
	if aerr != nil {
		return nil, aerr
	}
	return okResponse(r.action, &node{name: "return", text: "true"}), nil
}

func (p *proxy) enableDeprecation(ctx context.Context, r *request) (*node, *apiError) {
	at, err := time.Parse(time.RFC3339, r.form.Get("DeprecateAt"))
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterValue", "DeprecateAt must be a time like 2030-01-02T15:04:00Z"}
	}
	at = at.UTC().Round(time.Minute)
	now := p.world.now()
	if at.Before(now.Truncate(time.Minute)) || at.After(now.AddDate(10, 0, 0)) {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterValue", "DeprecateAt must be in the future and at most 10 years ahead"}
	}
	return p.imageAction(ctx, r, func(im *image) *apiError {
		im.deprecateAt = at.Format(deprecationFormat)
		return nil
	})
}

func (p *proxy) disableDeprecation(ctx context.Context, r *request) (*node, *apiError) {
	return p.imageAction(ctx, r, func(im *image) *apiError {
		im.deprecateAt = ""
		return nil
	})
}

func (p *proxy) enableProtection(ctx context.Context, r *request) (*node, *apiError) {
	return p.imageAction(ctx, r, func(im *image) *apiError {
		im.protection = "enabled-without-cooldown"
		if r.form.Get("WithCooldown") == "true" {
			im.protection = "enabled-with-cooldown"
		}
		return nil
	})
}

func (p *proxy) disableProtection(ctx context.Context, r *request) (*node, *apiError) {
	return p.imageAction(ctx, r, func(im *image) *apiError {
		if im.protection == "enabled-with-cooldown" {
			im.cooldownEnd = p.world.now().Add(24 * time.Hour)
		}
		im.protection = ""
		return nil
	})
}
