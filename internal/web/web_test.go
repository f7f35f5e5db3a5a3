package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/web"
)

func get(t *testing.T, h http.Handler, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandlerServesThePageWithVersionedAssets(t *testing.T) {
	h := web.Handler()
	res := get(t, h, http.MethodGet, "/", nil)
	page := body(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", cc)
	}
	if res.Header.Get("Content-Security-Policy") == "" || res.Header.Get("ETag") == "" {
		t.Errorf("missing CSP or ETag: %v", res.Header)
	}
	for _, id := range []string{"pay", "status", "order-id", "order-status", "message", "new-purchase"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("page has no element #%s", id)
		}
	}

	links := regexp.MustCompile(`"(assets/[a-z]+\.(?:js|css)\?v=[0-9a-f]{12})"`).FindAllStringSubmatch(page, -1)
	if len(links) != 2 {
		t.Fatalf("page links %d versioned assets, want 2 (app.js, style.css): %q", len(links), links)
	}
	for _, l := range links {
		res := get(t, h, http.MethodGet, "/"+l[1], nil)
		b := body(t, res)
		want := "text/css; charset=utf-8"
		if strings.Contains(l[1], ".js") {
			want = "text/javascript; charset=utf-8"
		}
		if res.StatusCode != http.StatusOK || len(b) == 0 {
			t.Fatalf("GET /%s = %d, %d bytes", l[1], res.StatusCode, len(b))
		}
		if ct := res.Header.Get("Content-Type"); ct != want {
			t.Errorf("GET /%s: Content-Type = %q, want %q", l[1], ct, want)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("GET /%s: Cache-Control = %q, want immutable", l[1], cc)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET /%s: no nosniff", l[1])
		}

		plain := "/" + strings.SplitN(l[1], "?", 2)[0]
		res = get(t, h, http.MethodGet, plain, nil)
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s without its version: Cache-Control = %q, want no-cache", plain, cc)
		}
		res = get(t, h, http.MethodGet, plain, http.Header{"If-None-Match": {res.Header.Get("ETag")}})
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag = %d, want 304", plain, res.StatusCode)
		}
	}
}

func TestHandlerRefusesWhatItDoesNotServe(t *testing.T) {
	h := web.Handler()
	for _, tc := range []struct {
		method, target string
		want           int
	}{
		{http.MethodGet, "/nope", http.StatusNotFound},
		{http.MethodGet, "/assets/nope.js", http.StatusNotFound},
		{http.MethodGet, "/assets/", http.StatusNotFound},
		{http.MethodGet, "/static/index.html", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/assets/app.js", http.StatusMethodNotAllowed},
		{http.MethodHead, "/", http.StatusOK},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			if res := get(t, h, tc.method, tc.target, nil); res.StatusCode != tc.want {
				t.Errorf("%s %s = %d, want %d", tc.method, tc.target, res.StatusCode, tc.want)
			}
		})
	}
}
