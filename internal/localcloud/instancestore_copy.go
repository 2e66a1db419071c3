package localcloud

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"path"
	"strings"
)

// CopyImage of an instance-store image: AWS copies the bundle into a
// bucket EC2 makes in the destination region, "amis-for-<account>-in-
// <region>-<hash>" (EC2 User Guide, "How Amazon EC2 AMI copy works"), and
// the copy is again an instance-store image whose manifest is there. The
// layer does the same in moto's S3 (under <new image ID>/), and the copy
// shares the source's content layers, as every copy does (images.go).

// copyBucket is the bucket of the instance-store images copied to region.
func copyBucket(region string) string {
	sum := sha256.Sum256([]byte(motoAccount + "/" + region))
	hash := strings.ToLower(base32.StdEncoding.EncodeToString(sum[:5]))
	return "amis-for-" + motoAccount + "-in-" + region + "-" + hash
}

// afterCopyStoreImage copies the bundle of an instance-store source image
// and records the copy.
func (p *proxy) afterCopyStoreImage(ctx context.Context, r *request, resp *node) {
	id := resp.value("imageId")
	src := p.bundles.image(r.form.Get("SourceRegion"), r.form.Get("SourceImageId"))
	if id == "" || src == nil {
		return
	}
	cp := *src
	srcBucket, srcKey, _ := strings.Cut(src.location, "/")
	bucket := copyBucket(r.region)
	cp.location = bucket + "/" + id + "/" + path.Base(srcKey)
	if err := p.copyBundle(ctx, r.region, srcBucket, srcKey, bucket, id, src.parts); err != nil {
		p.log.Error("copy the bundle of an instance-store image", "image", id, "region", r.region, "error", err)
	}
	var err error
	if cp.snapshots, err = p.snapshotsOf(ctx, r.region, id); err != nil {
		p.log.Error("find the snapshot moto made for an instance-store image", "image", id, "region", r.region, "error", err)
	}
	for _, s := range cp.snapshots {
		// The copy's snapshots share its layers (images.go); this one is
		// moto's alone, not shown, so it holds nothing.
		p.machines.release(snapshotHolder(r.region, s))
	}
	p.bundles.addImage(r.region, id, &cp)
}

// copyBundle copies the parts, then the manifest, of the bundle whose
// manifest is srcBucket/srcKey to bucket, under dir.
func (p *proxy) copyBundle(ctx context.Context, region, srcBucket, srcKey, bucket, dir string, parts []string) error {
	if err := p.s3EnsureBucket(ctx, region, bucket); err != nil {
		return err
	}
	srcDir := path.Dir(srcKey)
	for _, name := range append(append([]string(nil), parts...), path.Base(srcKey)) {
		from := name
		if srcDir != "." {
			from = srcDir + "/" + name
		}
		if err := p.s3Copy(ctx, region, srcBucket, from, bucket, dir+"/"+name); err != nil {
			return err
		}
	}
	return nil
}
