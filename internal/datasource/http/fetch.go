package http

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// maxBody bounds the response body read: the body becomes a template
// value, not a download.
const maxBody = 64 << 20

// Fetch sends the request cfg describes with client and returns the
// response. A status outside 2xx is an error naming the URL and the
// status; the body of such a response is not read.
func Fetch(ctx context.Context, client *http.Client, cfg *Config) (Output, error) {
	var body io.Reader
	if cfg.RequestBody != "" {
		body = strings.NewReader(cfg.RequestBody)
	}
	req, err := http.NewRequestWithContext(ctx, cfg.Method, cfg.URL, body)
	if err != nil {
		return Output{}, fmt.Errorf("request %s: %w", cfg.URL, err)
	}
	for k, v := range cfg.RequestHeaders {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Output{}, fmt.Errorf("%s %s: %w", cfg.Method, cfg.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Output{}, fmt.Errorf("%s %s: response status %s; the http data source needs a 2xx answer", cfg.Method, cfg.URL, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return Output{}, fmt.Errorf("read the response of %s: %w", cfg.URL, err)
	}
	if len(b) > maxBody {
		return Output{}, fmt.Errorf("the response of %s is larger than %d MiB", cfg.URL, maxBody>>20)
	}
	headers := make(map[string]string, len(resp.Header))
	for k, vs := range resp.Header {
		headers[k] = strings.Join(vs, ", ")
	}
	return Output{URL: cfg.URL, Body: string(b), Headers: headers}, nil
}

// textTypes are the content types Packer treats as text.
var textTypes = regexp.MustCompile(`^(text/.+|application/json|application/samlmetadata\+xml.*)$`)

// IsText reports whether a response with this Content-Type holds text
// a template can use; Packer warns, and goes on, when it does not.
func IsText(contentType string) bool {
	t, params, err := mime.ParseMediaType(contentType)
	if err != nil || !textTypes.MatchString(t) {
		return false
	}
	cs := strings.ToLower(params["charset"])
	return cs == "" || cs == "utf-8" || cs == "us-ascii"
}

// Evaluate resolves the data source with client and returns its Output
// as a value of OutputType; warn is told when the response is not text.
func Evaluate(ctx context.Context, client *http.Client, cfg *Config, warn func(string)) (cty.Value, error) {
	o, err := Fetch(ctx, client, cfg)
	if err != nil {
		return cty.NilVal, err
	}
	if ct := o.Headers["Content-Type"]; !IsText(ct) && warn != nil {
		warn(fmt.Sprintf("the response of %s has Content-Type %q, not text: its body may not be usable in the template", cfg.URL, ct))
	}
	return o.CtyValue(), nil
}
