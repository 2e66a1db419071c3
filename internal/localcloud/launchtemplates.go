package localcloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// addLaunchTemplateHooks makes CreateLaunchTemplateVersion start from its
// SourceVersion, as EC2 does: the new version has the source version's
// data with the request's fields replacing whole top-level fields. moto
// ignores SourceVersion, so its new version had the request's fields only.
func (p *proxy) addLaunchTemplateHooks(hooks map[string]hook) {
	hooks["CreateLaunchTemplateVersion"] = hook{before: p.beforeCreateTemplateVersion}
}

// beforeCreateTemplateVersion adds the source version's fields the
// request does not set to the request moto sees.
func (p *proxy) beforeCreateTemplateVersion(ctx context.Context, r *request) (*node, *apiError) {
	src := r.form.Get("SourceVersion")
	if src == "" {
		return nil, nil
	}
	q := url.Values{"Action": {"DescribeLaunchTemplateVersions"}, "LaunchTemplateVersion.1": {src}}
	for _, k := range []string{"LaunchTemplateName", "LaunchTemplateId"} {
		if v := r.form.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	resp, err := p.call(ctx, r.region, q)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, &apiError{http.StatusBadGateway, "InternalError", err.Error()}
	}
	items := resp.items("launchTemplateVersionSet")
	if len(items) == 0 {
		return nil, &apiError{http.StatusBadRequest, "InvalidLaunchTemplateId.VersionNotFound",
			fmt.Sprintf("Could not find launch template version %s", src)}
	}
	given := map[string]bool{} // the top-level fields the request sets
	for k := range r.form {
		if rest, ok := strings.CutPrefix(k, "LaunchTemplateData."); ok {
			field, _, _ := strings.Cut(rest, ".")
			given[field] = true
		}
	}
	for _, c := range items[0].child("launchTemplateData").kids() {
		if field := requestName(c.name); !given[field] {
			flattenForm(r.form, "LaunchTemplateData."+field, c)
		}
	}
	r.form.Del("SourceVersion")
	return nil, nil
}

// requestName turns a response element name into the request's:
// blockDeviceMappingSet is BlockDeviceMapping.N, imageId ImageId.
func requestName(n string) string {
	if n == "" {
		return n
	}
	if base, ok := strings.CutSuffix(n, "Set"); ok && base != "" {
		n = base
	}
	return strings.ToUpper(n[:1]) + n[1:]
}

// flattenForm writes the response element n as query parameters under key:
// a leaf as key, a list of <item>s as key.1, key.2, ..., a structure as
// key.Field.
func flattenForm(form url.Values, key string, n *node) {
	kids := n.kids()
	switch {
	case len(kids) == 0:
		form.Set(key, n.text)
	case kids[0].name == "item":
		for i, it := range kids {
			flattenForm(form, fmt.Sprintf("%s.%d", key, i+1), it)
		}
	default:
		for _, c := range kids {
			flattenForm(form, key+"."+requestName(c.name), c)
		}
	}
}
