// Package http is the http data source: it requests a URL when the
// template is built and yields the response's body and headers, as
// Packer's data "http" does. Validate does not contact the URL: the
// outputs are unknown then.
package http

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/imgbuild/imgbuild/internal/check"
)

// Config is the configuration of a data "http" block.
type Config struct {
	// URL is the address requested, http or https. The response must
	// have a 2xx status. Required.
	URL string `hcl:"url" required:"true"`
	// Method is the HTTP method: HEAD, GET, POST, PUT, DELETE, OPTIONS or
	// PATCH. Default: GET.
	Method string `hcl:"method"`
	// RequestHeaders are headers added to the request.
	RequestHeaders map[string]string `hcl:"request_headers"`
	// RequestBody is the request's payload. Default: none.
	RequestBody string `hcl:"request_body"`
}

// Methods are the HTTP methods the data source accepts, as in Packer.
var Methods = []string{"HEAD", "GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"}

// Prepare fills defaults and checks the configuration offline.
func (c *Config) Prepare(ctx *check.Context) {
	if c.Method == "" {
		c.Method = "GET"
	}
	if !slices.Contains(Methods, c.Method) {
		ctx.Errorf(check.Path("method"), "Invalid method", "method %q is not one of %s.", c.Method, strings.Join(Methods, ", "))
	}
	ctx.Check(check.Path("url"), "Invalid url", checkURL(c.URL))
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL: %w", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q is not an http or https URL", s)
	case u.Host == "":
		return fmt.Errorf("%q has no host", s)
	}
	return nil
}

// Output is what the data source yields, as data.http.<name>.<attr>.
type Output struct {
	URL  string `cty:"url"`  // the URL requested
	Body string `cty:"body"` // the response body
	// Headers are the response headers, a header given several times
	// joined with ", ". Packer names this output request_headers, and so
	// does imgbuild.
	Headers map[string]string `cty:"request_headers"`
}

// OutputType is the cty type of Output's value.
var OutputType = cty.Object(map[string]cty.Type{
	"url":             cty.String,
	"body":            cty.String,
	"request_headers": cty.Map(cty.String),
})

// CtyValue returns o as a value of OutputType (no headers: an empty map).
func (o Output) CtyValue() cty.Value {
	if o.Headers == nil {
		o.Headers = map[string]string{}
	}
	v, err := gocty.ToCtyValue(o, OutputType)
	if err != nil {
		panic(fmt.Sprintf("http output does not match its type: %v", err)) // a programming error
	}
	return v
}
