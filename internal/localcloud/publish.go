package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Patch Tuesday: POST /_localcloud/publish-image adds, in every region, a
// newer public image like a catalogue image, as AWS publishes patched base
// AMIs, so that source_ami_filter { most_recent = true } and data
// "amazon-ami" then find it.
//
// moto keeps the images of an account apart from those of another and
// cannot register an image for someone else, so a published image is, in
// moto, the account's own CopyImage of the image it is like (same
// platform), made public. The layer shows it as the like image's owner's:
// DescribeImages reports that owner, alias, description and the requested
// creation date and applies Owners (self included) and the owner-id,
// owner-alias and is-public filters itself, on what it shows; its snapshot
// is shown under the same owner and left out of the account's own
// snapshots. Guests of its instances boot the like image's content layers.

// PublishRequest is the body of POST /_localcloud/publish-image.
type PublishRequest struct {
	// Like is the name of the image the new one is a newer build of, or a
	// name prefix: the most recent public image whose name starts with it.
	Like string `json:"like"`
	// Name is the new image's name.
	Name string `json:"name"`
	// Created is its creation date (RFC 3339); empty means now.
	Created string `json:"created,omitempty"`
	// Regions limits the regions; empty means every region of the cloud.
	Regions []string `json:"regions,omitempty"`
}

// PublishResult is the answer: the new image's ID in each region.
type PublishResult struct {
	Images map[string]string `json:"images"`
}

// publishedImage is what the layer shows of an image publish-image made.
type publishedImage struct {
	name, owner, alias, description, created string
	snapshot                                 string // moto's snapshot of it
}

// publications holds the published images, by region/id.
type publications struct {
	mu     sync.Mutex
	images map[string]*publishedImage
}

func newPublications() *publications {
	return &publications{images: map[string]*publishedImage{}}
}

func (ps *publications) get(region, id string) *publishedImage {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.images[region+"/"+id]
}

func (ps *publications) add(region, id string, im *publishedImage) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.images[region+"/"+id] = im
}

// named returns the ID of the image published under name in region.
func (ps *publications) named(region, name string) (string, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for k, im := range ps.images {
		if im.name == name && strings.HasPrefix(k, region+"/") {
			return strings.TrimPrefix(k, region+"/"), true
		}
	}
	return "", false
}

// any reports whether region has published images.
func (ps *publications) any(region string) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for k := range ps.images {
		if strings.HasPrefix(k, region+"/") {
			return true
		}
	}
	return false
}

// servePublish answers POST /_localcloud/publish-image.
func (p *proxy) servePublish(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	var req PublishRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "publish-image: read the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	res, err := p.publish(r.Context(), req)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, errBadPublish) {
			status = http.StatusBadRequest
		}
		http.Error(w, "publish-image: "+err.Error(), status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

var errBadPublish = errors.New("bad request")

// publish makes req's image in every region it names (all by default).
func (p *proxy) publish(ctx context.Context, req PublishRequest) (PublishResult, error) {
	if req.Like == "" || req.Name == "" {
		return PublishResult{}, fmt.Errorf("%w: like and name are required", errBadPublish)
	}
	created := time.Now().UTC()
	if req.Created != "" {
		t, err := time.Parse(time.RFC3339, req.Created)
		if err != nil {
			return PublishResult{}, fmt.Errorf("%w: created %q is not an RFC 3339 time", errBadPublish, req.Created)
		}
		created = t.UTC()
	}
	regions := req.Regions
	if len(regions) == 0 {
		regions = catalogueRegions()
	}
	res := PublishResult{Images: map[string]string{}}
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, region := range regions {
		g.Go(func() error {
			id, err := p.publishIn(ctx, region, req, created.Format(deprecationFormat))
			if err != nil {
				return fmt.Errorf("in %s: %w", region, err)
			}
			mu.Lock()
			res.Images[region] = id
			mu.Unlock()
			return nil
		})
	}
	return res, g.Wait()
}

// publishIn publishes req's image in region; publishing the same name
// again answers the image made the first time.
func (p *proxy) publishIn(ctx context.Context, region string, req PublishRequest, created string) (string, error) {
	if id, ok := p.published.named(region, req.Name); ok {
		return id, nil
	}
	like, err := p.likeImage(ctx, region, req.Like)
	if err != nil {
		return "", err
	}
	likeID := like.value("imageId")
	if like.value("rootDeviceType") == "instance-store" {
		return "", fmt.Errorf("%w: %s (%s) is an instance-store image; publish-image makes EBS images only", errBadPublish, like.value("name"), likeID)
	}
	im := &publishedImage{name: req.Name, owner: like.value("imageOwnerId"), alias: like.value("imageOwnerAlias"),
		description: like.value("description"), created: created}
	if pub := p.published.get(region, likeID); pub != nil {
		im.owner, im.alias, im.description = pub.owner, pub.alias, pub.description
	}
	form := url.Values{"Action": {"CopyImage"}, "SourceRegion": {region}, "SourceImageId": {likeID}, "Name": {req.Name}}
	if im.description != "" {
		form.Set("Description", im.description)
	}
	resp, err := p.call(ctx, region, form)
	if err != nil {
		return "", fmt.Errorf("copy %s: %w", likeID, err)
	}
	id := resp.value("imageId")
	if _, err := p.call(ctx, region, url.Values{"Action": {"ModifyImageAttribute"}, "ImageId": {id},
		"LaunchPermission.Add.1.Group": {"all"}}); err != nil {
		return "", fmt.Errorf("make %s public: %w", id, err)
	}
	if snaps, err := p.snapshotsOf(ctx, region, id); err == nil && len(snaps) > 0 {
		im.snapshot = snaps[0]
	}
	p.machines.share(imageHolder(region, likeID), imageHolder(region, id))
	p.published.add(region, id, im)
	p.log.Info("published image", "region", region, "image", id, "name", req.Name, "like", likeID)
	return id, nil
}

// likeImage finds the public image named like in region, or else the
// most recent public one whose name starts with like.
func (p *proxy) likeImage(ctx context.Context, region, like string) (*node, error) {
	resp, err := p.call(ctx, region, url.Values{"Action": {"DescribeImages"}, "ExecutableBy.1": {"all"},
		"Filter.1.Name": {"name"}, "Filter.1.Value.1": {like + "*"}})
	if err != nil {
		return nil, fmt.Errorf("find the image %s is like: %w", like, err)
	}
	var found []*node
	for _, item := range resp.items("imagesSet") {
		if item.value("isPublic") != "true" || !strings.HasPrefix(item.value("name"), like) {
			continue
		}
		if item.value("name") == like {
			return p.shownAs(region, item), nil
		}
		found = append(found, p.shownAs(region, item))
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%w: no public image named %s or starting with it", errBadPublish, like)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].value("creationDate") > found[j].value("creationDate") })
	return found[0], nil
}

// shownAs returns item as DescribeImages shows it (a published image with
// its creation date).
func (p *proxy) shownAs(region string, item *node) *node {
	if pub := p.published.get(region, item.value("imageId")); pub != nil {
		pub.show(item)
	}
	return item
}

// show writes what the layer reports of a published image into its
// DescribeImages item.
func (im *publishedImage) show(item *node) {
	item.set("imageOwnerId", im.owner)
	if im.alias != "" {
		item.set("imageOwnerAlias", im.alias)
	}
	item.set("isPublic", "true")
	item.set("creationDate", im.created)
	if im.description != "" {
		item.set("description", im.description)
	}
	owner := im.alias
	if owner == "" {
		owner = im.owner
	}
	item.set("imageLocation", owner+"/"+im.name)
}

// addPublishHooks shows published images as their owner's. It must be
// added before addImageFilterHook, whose filters see what this shows.
func (p *proxy) addPublishHooks(hooks map[string]hook) {
	wrapBefore(hooks, "DescribeImages", p.beforeDescribePublished)
	wrapAfter(hooks, "DescribeImages", p.afterDescribePublished, false)
	wrapAfter(hooks, "DescribeSnapshots", p.afterDescribePublishedSnapshots, false)
}

// ownerFilters are the DescribeImages filters (and, as "_owners", the
// Owner.N parameters) the layer applies itself in a region with published
// images, to the response field each tests.
var ownerFilters = map[string]string{
	"_owners":     "",
	"owner-id":    "imageOwnerId",
	"owner-alias": "imageOwnerAlias",
	"is-public":   "isPublic",
}

// beforeDescribePublished takes the owner filters out of the request in a
// region with published images: moto would apply them to its own view.
func (p *proxy) beforeDescribePublished(old beforeFunc) beforeFunc {
	return func(ctx context.Context, r *request) (*node, *apiError) {
		if p.published.any(r.region) {
			var kept []filter
			for _, f := range r.filtersOf() {
				if _, ok := ownerFilters[f.name]; ok {
					r.filters = append(r.filters, f)
				} else {
					kept = append(kept, f)
				}
			}
			r.setFilters(kept)
			if owners := r.values("Owner"); len(owners) > 0 {
				r.filters = append(r.filters, filter{name: "_owners", values: owners})
				for k := range r.form {
					if strings.HasPrefix(k, "Owner.") {
						delete(r.form, k)
					}
				}
			}
		}
		if old != nil {
			return old(ctx, r)
		}
		return nil, nil
	}
}

// afterDescribePublished shows published images as their owner's, then
// applies the owner filters beforeDescribePublished took out and removes
// them from r.filters (filterImages applies the rest).
func (p *proxy) afterDescribePublished(_ context.Context, r *request, resp *node) {
	for _, item := range resp.items("imagesSet") {
		if pub := p.published.get(r.region, item.value("imageId")); pub != nil {
			pub.show(item)
		}
	}
	var mine, rest []filter
	for _, f := range r.filters {
		if _, ok := ownerFilters[f.name]; ok {
			mine = append(mine, f)
		} else {
			rest = append(rest, f)
		}
	}
	r.filters = rest
	set := resp.child("imagesSet")
	if set == nil || len(mine) == 0 {
		return
	}
	kept := set.children[:0]
	for _, item := range set.children {
		if item.name != "item" || ownersMatch(item, mine) {
			kept = append(kept, item)
		}
	}
	set.children = kept
}

func ownersMatch(item *node, fs []filter) bool {
	for _, f := range fs {
		if f.name != "_owners" {
			if !matchAll(item, []filter{f}, ownerFilters) {
				return false
			}
			continue
		}
		ok := slices.ContainsFunc(f.values, func(o string) bool {
			if o == "self" {
				o = motoAccount
			}
			return o == item.value("imageOwnerId") || (o != "" && o == item.value("imageOwnerAlias"))
		})
		if !ok {
			return false
		}
	}
	return true
}

// afterDescribePublishedSnapshots shows the snapshots of published images
// under their images' owner, and not among the account's own.
func (p *proxy) afterDescribePublishedSnapshots(_ context.Context, r *request, resp *node) {
	set := resp.child("snapshotSet")
	if set == nil || !p.published.any(r.region) {
		return
	}
	snaps := p.published.snapshots(r.region)
	own := slices.ContainsFunc(append(r.values("Owner"), ownerIDFilter(r)...), func(o string) bool { return o == "self" || o == motoAccount })
	kept := set.children[:0]
	for _, item := range set.children {
		im := snaps[item.value("snapshotId")]
		if im == nil {
			kept = append(kept, item)
			continue
		}
		if own {
			continue
		}
		item.set("ownerId", im.owner)
		if im.alias != "" {
			item.set("ownerAlias", im.alias)
		}
		kept = append(kept, item)
	}
	set.children = kept
}

func ownerIDFilter(r *request) []string {
	for _, f := range r.filtersOf() {
		if f.name == "owner-id" {
			return f.values
		}
	}
	return nil
}

func (ps *publications) snapshots(region string) map[string]*publishedImage {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := map[string]*publishedImage{}
	for k, im := range ps.images {
		if strings.HasPrefix(k, region+"/") && im.snapshot != "" {
			out[im.snapshot] = im
		}
	}
	return out
}

// catalogueRegions returns the regions the cloud's catalogue covers: every
// region moto serves EC2 in.
func catalogueRegions() []string {
	c := installedCatalogue.c
	if c == nil {
		return []string{Region}
	}
	var out []string
	for f := range c.latest {
		out = append(out, strings.TrimSuffix(f, ".json"))
	}
	sort.Strings(out)
	return out
}

// PublishImage asks the local cloud at endpoint (its AWS_ENDPOINT_URL) to
// publish an image (see PublishRequest).
func PublishImage(ctx context.Context, endpoint string, req PublishRequest) (PublishResult, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return PublishResult{}, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(endpoint, "/")+"/_localcloud/publish-image", bytes.NewReader(body))
	if err != nil {
		return PublishResult{}, fmt.Errorf("publish image at %s: %w", endpoint, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return PublishResult{}, fmt.Errorf("publish image at %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return PublishResult{}, fmt.Errorf("publish image at %s: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		return PublishResult{}, fmt.Errorf("publish image at %s: %s: %s", endpoint, resp.Status, strings.TrimSpace(string(b)))
	}
	var res PublishResult
	if err := json.Unmarshal(b, &res); err != nil {
		return PublishResult{}, fmt.Errorf("publish image at %s: read the answer: %w", endpoint, err)
	}
	return res, nil
}

// PublishImage publishes an image in the cloud (see PublishRequest).
func (c *Cloud) PublishImage(ctx context.Context, req PublishRequest) (PublishResult, error) {
	return PublishImage(ctx, c.url, req)
}
