package http

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/internal/check"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/version":
			if r.Header.Get("Authorization") != "Bearer t0ken" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Add("X-Multi", "a")
			w.Header().Add("X-Multi", "b")
			io.WriteString(w, `{"version":"1.2.3"}`)
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, r.Method+" "+string(b))
		case "/binary":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write([]byte{0, 1, 2})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetch(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()

	t.Run("GET with headers", func(t *testing.T) {
		cfg := &Config{URL: srv.URL + "/version", Method: "GET", RequestHeaders: map[string]string{"Authorization": "Bearer t0ken"}}
		o, err := Fetch(ctx, srv.Client(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if o.Body != `{"version":"1.2.3"}` || o.URL != cfg.URL {
			t.Errorf("got url %q body %q", o.URL, o.Body)
		}
		if o.Headers["Content-Type"] != "application/json" || o.Headers["X-Multi"] != "a, b" {
			t.Errorf("headers = %v, want Content-Type application/json and X-Multi \"a, b\"", o.Headers)
		}
		v := o.CtyValue()
		if got := v.GetAttr("body").AsString(); got != o.Body {
			t.Errorf("body output = %q", got)
		}
		if got := v.GetAttr("request_headers").Index(ctyString("X-Multi")).AsString(); got != "a, b" {
			t.Errorf("request_headers output X-Multi = %q", got)
		}
	})
	t.Run("POST with body", func(t *testing.T) {
		o, err := Fetch(ctx, srv.Client(), &Config{URL: srv.URL + "/echo", Method: "POST", RequestBody: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		if o.Body != "POST hello" {
			t.Errorf("body = %q, want %q", o.Body, "POST hello")
		}
	})
	t.Run("non-2xx is an error", func(t *testing.T) {
		_, err := Fetch(ctx, srv.Client(), &Config{URL: srv.URL + "/missing", Method: "GET"})
		if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "/missing") {
			t.Errorf("err = %v, want the status and the URL", err)
		}
	})
	t.Run("unauthorized is an error", func(t *testing.T) {
		_, err := Fetch(ctx, srv.Client(), &Config{URL: srv.URL + "/version", Method: "GET"})
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("err = %v, want status 401", err)
		}
	})
	t.Run("binary warns", func(t *testing.T) {
		var warned []string
		_, err := Evaluate(ctx, srv.Client(), &Config{URL: srv.URL + "/binary", Method: "GET"}, func(s string) { warned = append(warned, s) })
		if err != nil {
			t.Fatal(err)
		}
		if len(warned) != 1 || !strings.Contains(warned[0], "application/octet-stream") {
			t.Errorf("warnings = %q, want one naming the content type", warned)
		}
	})
}

func TestIsText(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/plain": true, "text/html; charset=UTF-8": true, "application/json": true,
		"application/samlmetadata+xml": true, "text/plain; charset=latin1": false,
		"application/octet-stream": false, "": false,
	} {
		if got := IsText(ct); got != want {
			t.Errorf("IsText(%q) = %v, want %v", ct, got, want)
		}
	}
}

func TestPrepare(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		unknown    []string
		wantMethod string
		wantErr    string
	}{
		{name: "defaults to GET", cfg: Config{URL: "https://example.com/x"}, wantMethod: "GET"},
		{name: "bad method", cfg: Config{URL: "https://example.com/x", Method: "FETCH"}, wantErr: "method"},
		{name: "lowercase method is refused as in Packer", cfg: Config{URL: "https://example.com/x", Method: "get"}, wantErr: "method"},
		{name: "not http", cfg: Config{URL: "ftp://example.com/x"}, wantErr: "url"},
		{name: "no host", cfg: Config{URL: "https:///x"}, wantErr: "url"},
		{name: "unknown url is not checked", cfg: Config{}, unknown: []string{"url"}, wantMethod: "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := &check.Context{Unknown: map[string]bool{}}
			for _, u := range tt.unknown {
				ctx.Unknown[u] = true
			}
			tt.cfg.Prepare(ctx)
			if tt.wantErr == "" {
				if ctx.HasErrors() {
					t.Fatalf("unexpected errors: %v", ctx.Diags)
				}
				if tt.cfg.Method != tt.wantMethod {
					t.Errorf("method = %q, want %q", tt.cfg.Method, tt.wantMethod)
				}
				return
			}
			if !ctx.HasErrors() || !strings.Contains(strings.ToLower(ctx.Diags[0].Summary), tt.wantErr) {
				t.Errorf("diags = %v, want an error about %s", ctx.Diags, tt.wantErr)
			}
		})
	}
}

func ctyString(s string) cty.Value { return cty.StringVal(s) }
