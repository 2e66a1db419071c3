package localcloud

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ec2Hooks lists every action the layer changes.
func (p *proxy) ec2Hooks() map[string]hook {
	return map[string]hook{
		"RunInstances":       {before: p.beforeRun, after: p.afterRun},
		"StartInstances":     {after: p.afterStateChange("pending", p.s.Boot)},
		"RebootInstances":    {after: p.afterReboot},
		"StopInstances":      {after: p.afterStateChange("stopping", p.s.Stop)},
		"TerminateInstances": {after: p.afterStateChange("shutting-down", p.s.Terminate)},
		"DescribeInstances":  {after: p.afterDescribeInstances},
		"CreateKeyPair":      {after: p.afterCreateKeyPair},
		"ImportKeyPair":      {after: p.afterImportKeyPair},
		"GetPasswordData":    {before: p.beforeGetPasswordData},
		"CreateSnapshot":     {after: p.afterCreateSnapshot},
		"DeleteSnapshot":     {after: p.afterDeleteSnapshot},
		"DescribeSnapshots":  {after: p.afterDescribeSnapshots},

		"CreateImage":     {before: p.beforeCreateImage, after: p.afterNewImage(p.s.Image)},
		"RegisterImage":   {before: p.beforeCreateImage, after: p.afterNewImage(p.s.Image)},
		"CopyImage":       {before: p.beforeCopyImage, after: p.afterNewImage(p.s.Copy)},
		"DescribeImages":  {after: p.afterDescribeImages},
		"DeregisterImage": {before: p.beforeDeregister, after: p.afterDeregister},

		"EnableImageDeprecation":               {before: p.enableDeprecation},
		"DisableImageDeprecation":              {before: p.disableDeprecation},
		"EnableImageDeregistrationProtection":  {before: p.enableProtection},
		"DisableImageDeregistrationProtection": {before: p.disableProtection},
	}
}

// beforeRun answers a repeated ClientToken with the instances the first
// request launched, as EC2 does (moto launches again).
func (p *proxy) beforeRun(ctx context.Context, r *request) (*node, *apiError) {
	tok := r.form.Get("ClientToken")
	if tok == "" {
		return nil, nil
	}
	ids, ok := p.world.madeFor(r.region, "RunInstances", tok)
	if !ok {
		return nil, nil
	}
	form := url.Values{"Action": {"DescribeInstances"}}
	for i, id := range strings.Split(ids, ",") {
		form.Set(fmt.Sprintf("InstanceId.%d", i+1), id)
	}
	resp, err := p.call(ctx, r.region, form)
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	res := resp.items("reservationSet")
	if len(res) == 0 {
		return nil, nil
	}
	for _, item := range res[0].items("instancesSet") {
		p.rewriteInstance(r.region, item)
	}
	return okResponse("RunInstances", res[0].kids()...), nil
}

// afterRun makes new instances pending, gives each a loopback address and
// boots its guest.
func (p *proxy) afterRun(ctx context.Context, r *request, resp *node) {
	var ids []string
	defer func() {
		if tok := r.form.Get("ClientToken"); tok != "" && len(ids) > 0 {
			p.world.rememberToken(r.region, "RunInstances", tok, strings.Join(ids, ","))
		}
	}()
	for _, item := range resp.items("instancesSet") {
		id := item.value("instanceId")
		ids = append(ids, id)
		p.world.created(r.region, id)
		p.world.instanceTransition(r.region, id, "pending", p.s.Boot)
		l := launch{key: r.form.Get("KeyName"), image: r.form.Get("ImageId"), userData: r.form.Get("UserData"),
			windows: item.value("platform") == "windows"}
		if err := p.machines.create(ctx, r.region, id, l); err != nil {
			p.log.Error("instance will not answer ssh", "instance", id, "region", r.region, "error", err)
		}
		p.rewriteInstance(r.region, item)
	}
}

// afterStateChange reports the transitional state for d and boots, stops
// or removes the instances' guests.
func (p *proxy) afterStateChange(shown string, d time.Duration) func(context.Context, *request, *node) {
	return func(ctx context.Context, r *request, resp *node) {
		for _, item := range resp.items("instancesSet") {
			id := item.value("instanceId")
			if prev, ok := p.world.instanceState(r.region, id); ok {
				if st := item.child("previousState"); st != nil {
					st.set("code", stateCode(prev))
					st.set("name", prev)
				}
			}
			p.world.instanceTransition(r.region, id, shown, d)
			switch shown {
			case "pending":
				if err := p.machines.boot(ctx, r.region, id); err != nil {
					p.log.Error("instance will not answer ssh", "instance", id, "region", r.region, "error", err)
				}
			case "shutting-down":
				p.machines.terminate(r.region, id)
			default:
				p.machines.halt(r.region, id)
			}
			if st := item.child("currentState"); st != nil {
				st.set("code", stateCode(shown))
				st.set("name", shown)
			}
		}
	}
}

func (p *proxy) afterDescribeInstances(_ context.Context, r *request, resp *node) {
	set := resp.child("reservationSet")
	if set == nil {
		return
	}
	kept := set.children[:0]
	for _, res := range set.children {
		p.dropInvisible(r.region, res, "instanceId", "instancesSet")
		for _, item := range res.items("instancesSet") {
			p.rewriteInstance(r.region, item)
		}
		if res.name != "item" || len(res.items("instancesSet")) > 0 {
			kept = append(kept, res)
		}
	}
	set.children = kept
}

// rewriteInstance applies the transitional state and the loopback address.
func (p *proxy) rewriteInstance(region string, item *node) {
	id := item.value("instanceId")
	if shown, ok := p.world.instanceState(region, id); ok {
		st := item.child("instanceState")
		if st == nil {
			st = item.set("instanceState", "")
		}
		st.set("code", stateCode(shown))
		st.set("name", shown)
	}
	if p.world.instance(region, id) == nil {
		return
	}
	ip := p.machines.ip(region, id)
	terminated := item.path("instanceState", "name") != nil && item.path("instanceState", "name").text == "terminated"
	item.walk(func(n *node) {
		switch n.name {
		case "ipAddress", "publicIp", "privateIpAddress", "dnsName", "publicDnsName", "privateDnsName":
			if len(n.children) == 0 {
				n.text = ip
				if terminated && (n.name == "ipAddress" || n.name == "publicIp" || n.name == "dnsName") {
					n.text = ""
				}
			}
		}
	})
}

func (p *proxy) afterCreateKeyPair(_ context.Context, r *request, resp *node) {
	name, material := resp.value("keyName"), resp.value("keyMaterial")
	if err := p.machines.addPrivateKey(r.region, name, material); err != nil {
		p.log.Warn("instances launched with this key pair will not answer ssh", "error", err)
	}
}

func (p *proxy) afterImportKeyPair(_ context.Context, r *request, _ *node) {
	name := r.form.Get("KeyName")
	if err := p.machines.addPublicKey(r.region, name, r.form.Get("PublicKeyMaterial")); err != nil {
		p.log.Warn("instances launched with this key pair will not answer ssh", "error", err)
	}
}

// afterReboot restarts the instances' guests.
func (p *proxy) afterReboot(ctx context.Context, r *request, _ *node) {
	for _, id := range r.values("InstanceId") {
		if err := p.machines.reboot(ctx, r.region, id); err != nil {
			p.log.Error("instance did not come back after a reboot", "instance", id, "region", r.region, "error", err)
		}
	}
}

// afterCreateSnapshot keeps the content of a root volume's instance as the
// snapshot's.
func (p *proxy) afterCreateSnapshot(ctx context.Context, r *request, resp *node) {
	id := resp.value("snapshotId")
	if id == "" {
		return
	}
	p.world.created(r.region, id)
	if !p.machines.guests {
		return
	}
	vol, err := p.call(ctx, r.region, url.Values{"Action": {"DescribeVolumes"}, "VolumeId.1": {r.form.Get("VolumeId")}})
	if err != nil {
		p.log.Error("find the instance of a snapshot's volume", "snapshot", id, "region", r.region, "error", err)
		return
	}
	var instance string
	vol.walk(func(n *node) {
		if n.name == "instanceId" && instance == "" {
			instance = n.text
		}
	})
	if instance == "" {
		return
	}
	if err := p.machines.capture(ctx, r.region, instance, snapshotHolder(r.region, id), true); err != nil {
		p.log.Error("capture a snapshot's content", "snapshot", id, "instance", instance, "region", r.region, "error", err)
	}
}

func (p *proxy) afterDeleteSnapshot(_ context.Context, r *request, _ *node) {
	p.machines.release(snapshotHolder(r.region, r.form.Get("SnapshotId")))
}
