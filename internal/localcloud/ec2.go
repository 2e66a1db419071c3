package localcloud

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/google/uuid"
)

// ec2Version is the API version every EC2 SDK sends.
const ec2Version = "2016-11-15"

// request is one EC2 Query API call.
type request struct {
	action string
	region string
	form   url.Values
	header http.Header
	// tags holds TagSpecification tags by resource type, taken out of the
	// request by a hook that applies them itself.
	tags map[string][][2]string
	// filters holds the DescribeImages filters the layer applies itself
	// (instancestore.go), taken out of the request moto sees.
	filters []filter
}

// scopeRe extracts region and service from a SigV4 Authorization header.
var scopeRe = regexp.MustCompile(`Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request`)

// sigScope returns the region and service a request was signed for.
func sigScope(h http.Header) (region, service string) {
	m := scopeRe.FindStringSubmatch(h.Get("Authorization"))
	if m == nil {
		return "", ""
	}
	return m[1], m[2]
}

// values returns the form values whose keys are name or name.N, in order.
func (r *request) values(name string) []string {
	var keys []string
	for k := range r.form {
		if k == name || (strings.HasPrefix(k, name+".") && isDigits(k[len(name)+1:])) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		return len(keys[i]) < len(keys[j]) || len(keys[i]) == len(keys[j]) && keys[i] < keys[j]
	})
	var out []string
	for _, k := range keys {
		out = append(out, r.form.Get(k))
	}
	return out
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// tagSpecs returns the tags of the TagSpecification.N entries whose
// ResourceType is typ, as key/value pairs in request order.
func (r *request) tagSpecs(typ string) [][2]string {
	var out [][2]string
	for i := 1; ; i++ {
		p := fmt.Sprintf("TagSpecification.%d.", i)
		rt := r.form.Get(p + "ResourceType")
		if rt == "" {
			return out
		}
		if rt != typ {
			continue
		}
		for j := 1; ; j++ {
			k := r.form.Get(fmt.Sprintf("%sTag.%d.Key", p, j))
			if k == "" {
				break
			}
			out = append(out, [2]string{k, r.form.Get(fmt.Sprintf("%sTag.%d.Value", p, j))})
		}
	}
}

// dropTagSpecs removes every TagSpecification parameter from the request.
func (r *request) dropTagSpecs() {
	for k := range r.form {
		if strings.HasPrefix(k, "TagSpecification.") {
			delete(r.form, k)
		}
	}
}

// apiError is an EC2 error response.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errNotFound(id string) *apiError {
	code := "InvalidParameterValue"
	switch {
	case strings.HasPrefix(id, "i-"):
		code = "InvalidInstanceID.NotFound"
	case strings.HasPrefix(id, "ami-"):
		code = "InvalidAMIID.NotFound"
	case strings.HasPrefix(id, "snap-"):
		code = "InvalidSnapshot.NotFound"
	}
	return &apiError{http.StatusBadRequest, code, fmt.Sprintf("The ID '%s' does not exist", id)}
}

var (
	errThrottled = &apiError{http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded."}
	errInternal  = &apiError{http.StatusInternalServerError, "InternalError", "An internal error has occurred."}
)

// writeError writes an EC2 XML error response.
func writeError(w http.ResponseWriter, e *apiError) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response><Errors><Error><Code>")
	_ = xml.EscapeText(&b, []byte(e.code))
	b.WriteString("</Code><Message>")
	_ = xml.EscapeText(&b, []byte(e.message))
	b.WriteString("</Message></Error></Errors><RequestID>" + uuid.NewString() + "</RequestID></Response>")
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(e.status)
	_, _ = w.Write(b.Bytes())
}

// writeXML writes a successful EC2 response.
func writeXML(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// okResponse builds "<ActionResponse><requestId/><return>true</return>".
func okResponse(action string, extra ...*node) *node {
	n := &node{name: action + "Response", attrs: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: "http://ec2.amazonaws.com/doc/" + ec2Version + "/"}}}
	n.set("requestId", uuid.NewString())
	n.children = append(n.children, extra...)
	return n
}
