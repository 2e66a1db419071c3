package localcloud

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// addFleetHooks makes EC2 fleets of type "instant" launch instances the
// way RunInstances does: moto's CreateFleet makes its instances
// "running" at once, with no guest and no address. The layer gives each
// a pending state for the boot delay, a loopback address and a guest
// booted from the fleet's launch template (image, key pair, user data),
// answers a repeated ClientToken with the fleet the first request made (as
// EC2 does; moto fails), and DeleteFleets with TerminateInstances
// terminates the guests it stops. CreateLaunchTemplate honours its
// ClientToken the same way.
//
// moto makes a spot instance request for each spot instance of a fleet but
// does not name it on the instance: the layer adds the request's ID
// (spotInstanceRequestId) to DescribeInstances, as EC2 shows it.
func (p *proxy) addFleetHooks(hooks map[string]hook) {
	var sirs sync.Map // region/instance ID -> spot instance request ID
	create := hook{before: p.beforeCreateFleet, after: func(ctx context.Context, r *request, resp *node) {
		p.afterCreateFleet(ctx, r, resp)
		p.rememberSpotRequests(ctx, r.region, &sirs)
	}}
	hooks["CreateFleet"] = create
	describe := hooks["DescribeInstances"]
	hooks["DescribeInstances"] = hook{before: describe.before, after: func(ctx context.Context, r *request, resp *node) {
		if describe.after != nil {
			describe.after(ctx, r, resp)
		}
		for _, res := range resp.items("reservationSet") {
			for _, item := range res.items("instancesSet") {
				if sir, ok := sirs.Load(r.region + "/" + item.value("instanceId")); ok && item.value("spotInstanceRequestId") == "" {
					item.set("spotInstanceRequestId", sir.(string))
				}
			}
		}
	}}
	hooks["DeleteFleets"] = hook{before: p.beforeDeleteFleets}
	hooks["CreateLaunchTemplate"] = hook{before: p.beforeCreateLaunchTemplate, after: p.afterCreateLaunchTemplate}
}

// beforeCreateFleet answers a ClientToken seen before with the fleet it
// created and that fleet's instances.
func (p *proxy) beforeCreateFleet(ctx context.Context, r *request) (*node, *apiError) {
	tok := r.form.Get("ClientToken")
	if tok == "" {
		return nil, nil
	}
	id, ok := p.world.madeFor(r.region, "CreateFleet", tok)
	if !ok {
		return nil, nil
	}
	resp, err := p.call(ctx, r.region, url.Values{"Action": {"DescribeFleets"}, "FleetId.1": {id}})
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	fleets := resp.items("fleetSet")
	if len(fleets) == 0 {
		return nil, nil
	}
	out := okResponse("CreateFleet")
	out.set("fleetId", id)
	out.children = append(out.children, &node{name: "errorSet"})
	if set := fleets[0].child("fleetInstanceSet"); set != nil {
		out.children = append(out.children, set)
	}
	return out, nil
}

// afterCreateFleet boots the guests of the fleet's new instances and
// remembers the fleet of the request's ClientToken.
func (p *proxy) afterCreateFleet(ctx context.Context, r *request, resp *node) {
	fleet := resp.value("fleetId")
	if tok := r.form.Get("ClientToken"); tok != "" && fleet != "" {
		p.world.rememberToken(r.region, "CreateFleet", tok, fleet)
	}
	var ids []string
	for _, item := range resp.items("fleetInstanceSet") {
		for _, id := range item.items("instanceIds") {
			if id.text != "" {
				ids = append(ids, id.text)
			}
		}
	}
	if len(ids) == 0 {
		return
	}
	l, err := p.fleetLaunch(ctx, r)
	if err != nil {
		p.log.Error("fleet instances will not answer ssh", "fleet", fleet, "region", r.region, "error", err)
	}
	windows := p.windowsInstances(ctx, r.region, ids)
	for _, id := range ids {
		p.world.created(r.region, id)
		p.world.instanceTransition(r.region, id, "pending", p.s.Boot)
		if err != nil {
			continue
		}
		l.windows = windows[id]
		if err := p.machines.create(ctx, r.region, id, l); err != nil {
			p.log.Error("instance will not answer ssh", "instance", id, "region", r.region, "error", err)
		}
	}
}

// rememberSpotRequests records which instance each of moto's spot
// instance requests in region launched.
func (p *proxy) rememberSpotRequests(ctx context.Context, region string, sirs *sync.Map) {
	resp, err := p.call(ctx, region, url.Values{"Action": {"DescribeSpotInstanceRequests"}})
	if err != nil {
		p.log.Warn("describe spot instance requests", "region", region, "error", err)
		return
	}
	for _, item := range resp.items("spotInstanceRequestSet") {
		if id, sir := item.value("instanceId"), item.value("spotInstanceRequestId"); id != "" && sir != "" {
			sirs.Store(region+"/"+id, sir)
		}
	}
}

// fleetLaunch reads what the fleet's instances boot from out of its
// first launch template configuration: the template version's image, key
// pair and user data, the override's image when it has one.
func (p *proxy) fleetLaunch(ctx context.Context, r *request) (launch, error) {
	const cfg = "LaunchTemplateConfigs.1."
	q := url.Values{"Action": {"DescribeLaunchTemplateVersions"}}
	spec := cfg + "LaunchTemplateSpecification."
	for _, k := range []string{"LaunchTemplateName", "LaunchTemplateId"} {
		if v := r.form.Get(spec + k); v != "" {
			q.Set(k, v)
		}
	}
	version := r.form.Get(spec + "Version")
	if version == "" {
		version = "$Default"
	}
	q.Set("LaunchTemplateVersion.1", version)
	resp, err := p.call(ctx, r.region, q)
	if err != nil {
		return launch{}, fmt.Errorf("read the fleet's launch template: %w", err)
	}
	items := resp.items("launchTemplateVersionSet")
	if len(items) == 0 {
		return launch{}, fmt.Errorf("the fleet's launch template version %s is not found", version)
	}
	d := items[0].child("launchTemplateData")
	l := launch{key: d.value("keyName"), image: d.value("imageId"), userData: d.value("userData")}
	if img := r.form.Get(cfg + "Overrides.1.ImageId"); img != "" {
		l.image = img
	}
	return l, nil
}

// windowsInstances reports which of the instances run Windows.
func (p *proxy) windowsInstances(ctx context.Context, region string, ids []string) map[string]bool {
	out := map[string]bool{}
	for _, item := range p.describeMoto(ctx, region, ids) {
		out[item.value("instanceId")] = item.value("platform") == "windows"
	}
	return out
}

// motoStates returns the state moto holds for each of the instances
// (terminated at once by TerminateInstances, unlike what the layer shows).
func (p *proxy) motoStates(ctx context.Context, region string, ids []string) map[string]string {
	out := map[string]string{}
	for _, item := range p.describeMoto(ctx, region, ids) {
		out[item.value("instanceId")] = item.child("instanceState").value("name")
	}
	return out
}

// describeMoto returns moto's descriptions of the instances.
func (p *proxy) describeMoto(ctx context.Context, region string, ids []string) []*node {
	if len(ids) == 0 {
		return nil
	}
	q := url.Values{"Action": {"DescribeInstances"}}
	for i, id := range ids {
		q.Set(fmt.Sprintf("InstanceId.%d", i+1), id)
	}
	resp, err := p.call(ctx, region, q)
	if err != nil {
		p.log.Warn("describe fleet instances", "region", region, "error", err)
		return nil
	}
	var out []*node
	for _, res := range resp.items("reservationSet") {
		out = append(out, res.items("instancesSet")...)
	}
	return out
}

// beforeDeleteFleets terminates the guests of the fleets' instances when
// the request terminates them, as TerminateInstances would. When none of
// them is left to terminate, EC2 just deletes the fleets, while moto
// fails (it terminates an empty list): moto is then asked to delete them
// without terminating anything.
func (p *proxy) beforeDeleteFleets(ctx context.Context, r *request) (*node, *apiError) {
	if !strings.EqualFold(r.form.Get("TerminateInstances"), "true") {
		return nil, nil
	}
	q := url.Values{"Action": {"DescribeFleets"}}
	for i, id := range r.values("FleetId") {
		q.Set(fmt.Sprintf("FleetId.%d", i+1), id)
	}
	resp, err := p.call(ctx, r.region, q)
	if err != nil {
		return nil, nil // moto answers the request itself
	}
	var ids []string
	for _, f := range resp.items("fleetSet") {
		if strings.HasPrefix(f.value("fleetState"), "deleted") {
			continue
		}
		for _, item := range f.items("fleetInstanceSet") {
			for _, id := range item.items("instanceIds") {
				ids = append(ids, id.text)
			}
		}
	}
	alive := 0
	for id, st := range p.motoStates(ctx, r.region, ids) {
		if st == "shutting-down" || st == "terminated" {
			continue
		}
		alive++
		p.world.instanceTransition(r.region, id, "shutting-down", p.s.Terminate)
		p.machines.terminate(r.region, id)
	}
	if alive == 0 {
		r.form.Set("TerminateInstances", "false")
	}
	return nil, nil
}

// beforeCreateLaunchTemplate answers a ClientToken seen before with the
// template it created, as EC2 does (moto refuses the name as taken).
func (p *proxy) beforeCreateLaunchTemplate(ctx context.Context, r *request) (*node, *apiError) {
	tok := r.form.Get("ClientToken")
	if tok == "" {
		return nil, nil
	}
	id, ok := p.world.madeFor(r.region, "CreateLaunchTemplate", tok)
	if !ok {
		return nil, nil
	}
	resp, err := p.call(ctx, r.region, url.Values{"Action": {"DescribeLaunchTemplates"}, "LaunchTemplateId.1": {id}})
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	lts := resp.items("launchTemplates")
	if len(lts) == 0 {
		return nil, nil
	}
	lt := lts[0]
	lt.name = "launchTemplate"
	return okResponse("CreateLaunchTemplate", lt), nil
}

func (p *proxy) afterCreateLaunchTemplate(_ context.Context, r *request, resp *node) {
	if tok, id := r.form.Get("ClientToken"), resp.path("launchTemplate", "launchTemplateId"); tok != "" && id != nil && id.text != "" {
		p.world.rememberToken(r.region, "CreateLaunchTemplate", tok, id.text)
	}
}
