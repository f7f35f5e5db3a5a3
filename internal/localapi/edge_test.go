package localapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/localapi"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/web"
)

// localServer is the handler `make run` serves: the API, the page, and the given options.
func localServer(t *testing.T, opts ...localapi.Option) http.Handler {
	t.Helper()
	cfg := config.Config{IdempotencyTTL: time.Hour, IdempotencyWait: time.Second, LogLevel: "error"}
	deps, err := app.Load(t.Context(), cfg, io.Discard, app.Options{Memory: true})
	if err != nil {
		t.Fatal(err)
	}
	h, err := localapi.Handler(deps, map[string]http.Handler{"/": web.Handler()}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// rawRequest is a request as the server parses it, with target kept as sent (httptest would
// clean nothing either, but sets RequestURI from it).
func rawRequest(method, target string, header map[string]string, body string) *http.Request {
	r := httptest.NewRequest(method, "http://localhost"+target, strings.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return r
}

func TestEveryErrorIsAProblem(t *testing.T) {
	h := localServer(t)
	json := map[string]string{"Content-Type": "application/json", idem.KeyHeader: "k-edge"}
	cases := []struct {
		name, method, target string
		header               map[string]string
		status               int
		typ, allow           string
	}{
		{"an unknown path", "GET", "/no-such-thing", nil, 404, problem.NotFound, ""},
		{"a path below /checkout", "POST", "/checkout/extra", json, 404, problem.NotFound, ""},
		{"/checkout with a trailing slash", "POST", "/checkout/", json, 404, problem.NotFound, ""},
		{"/orders/ without an id", "GET", "/orders/", nil, 404, problem.NotFound, ""},
		{"/orders without a slash", "GET", "/orders", nil, 404, problem.NotFound, ""},
		{"a path below an order", "GET", "/orders/ord_1/items", nil, 404, problem.NotFound, ""},
		{"an unknown order", "GET", "/orders/ord_000000000000000000000000", nil, 404, problem.NotFound, ""},
		{"/webhooks/ with a trailing slash", "POST", "/webhooks/", json, 404, problem.NotFound, ""},
		{"a missing asset", "GET", "/assets/missing.js", nil, 404, problem.NotFound, ""},
		{"a doubled slash", "POST", "//checkout", json, 404, problem.NotFound, ""},
		{"a dot segment", "GET", "/assets/../checkout", nil, 404, problem.NotFound, ""},
		{"POST on the page", "POST", "/", nil, 405, problem.MethodNotAllowed, "GET, HEAD"},
		{"DELETE on the page", "DELETE", "/", nil, 405, problem.MethodNotAllowed, "GET, HEAD"},
		{"GET /checkout", "GET", "/checkout", nil, 405, problem.MethodNotAllowed, "POST"},
		{"PUT /checkout", "PUT", "/checkout", json, 405, problem.MethodNotAllowed, "POST"},
		{"a plain OPTIONS /checkout", "OPTIONS", "/checkout", nil, 405, problem.MethodNotAllowed, "POST"},
		{"DELETE on an order", "DELETE", "/orders/ord_000000000000000000000000", nil, 405, problem.MethodNotAllowed, "GET, HEAD"},
		{"GET /webhooks", "GET", "/webhooks", nil, 405, problem.MethodNotAllowed, "POST"},
		{"a range beyond an asset", "GET", "/assets/app.js", map[string]string{"Range": "bytes=99999999-"}, 416, problem.InvalidRequest, ""},
		{"a control character in a header", "GET", "/", map[string]string{"X-Note": "a\x01b"}, 400, problem.InvalidRequest, ""},
		{"DEL in the key", "POST", "/checkout", map[string]string{"Content-Type": "application/json", idem.KeyHeader: "a\x7fb"}, 400, problem.InvalidRequest, ""},
		{"two keys in one field", "POST", "/checkout", map[string]string{"Content-Type": "application/json", idem.KeyHeader: "a,b"}, 400, problem.KeyInvalid, ""},
		{"an empty key", "POST", "/checkout", map[string]string{"Content-Type": "application/json", idem.KeyHeader: ""}, 400, problem.KeyInvalid, ""},
		{"a body that is not JSON", "POST", "/checkout", map[string]string{"Content-Type": "text/plain", idem.KeyHeader: "k-415"}, 415, problem.MediaType, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name+" answers a "+http.StatusText(tc.status)+" problem", func(t *testing.T) {
			r := rawRequest(tc.method, tc.target, nil, `{"items":[{"sku":"tee-black-m","quantity":1}],"currency":"usd"}`)
			for k, v := range tc.header {
				r.Header[http.CanonicalHeaderKey(k)] = []string{v} // as sent, even an empty value
			}
			w := serve(h, r)
			p := assertProblem(t, w, tc.status, tc.typ)
			if tc.allow != "" && w.Header().Get("Allow") != tc.allow {
				t.Errorf("Allow = %q, want %q", w.Header().Get("Allow"), tc.allow)
			}
			if tc.status == 400 && tc.typ == problem.InvalidRequest && p.Field == "" {
				t.Errorf("problem %+v names no header", p)
			}
		})
	}
	t.Run("two Idempotency-Key fields answer key-invalid saying why", func(t *testing.T) {
		r := rawRequest("POST", "/checkout", map[string]string{"Content-Type": "application/json"}, validCheckout)
		r.Header.Add(idem.KeyHeader, "k-a")
		r.Header.Add(idem.KeyHeader, "k-b")
		p := assertProblem(t, serve(h, r), 400, problem.KeyInvalid)
		if !strings.Contains(p.Detail, "more than one key") {
			t.Fatalf("detail %q", p.Detail)
		}
	})
	for _, ok := range []struct{ method, target string }{{"GET", "/"}, {"HEAD", "/"}, {"GET", "/assets/app.js"}} {
		t.Run(ok.method+" "+ok.target+" still answers 200", func(t *testing.T) {
			if w := serve(h, rawRequest(ok.method, ok.target, nil, "")); w.Code != 200 {
				t.Fatalf("got %d %s", w.Code, w.Body)
			}
		})
	}
}

func assertProblem(t *testing.T, w *httptest.ResponseRecorder, status int, typ string) problem.Problem {
	t.Helper()
	var p problem.Problem
	err := json.Unmarshal(w.Body.Bytes(), &p)
	if w.Code != status || w.Header().Get("Content-Type") != problem.ContentType || err != nil || p.Type != typ || p.Status != status {
		t.Fatalf("got %d %q %s, want a %d problem of type %s", w.Code, w.Header().Get("Content-Type"), w.Body, status, typ)
	}
	return p
}

func TestCORSLikeTheTemplate(t *testing.T) {
	preflight := func(origin, method, headers string) *http.Request {
		r := rawRequest("OPTIONS", "/checkout", map[string]string{"Origin": origin, "Access-Control-Request-Method": method}, "")
		if headers != "" {
			r.Header.Set("Access-Control-Request-Headers", headers)
		}
		return r
	}
	shop := "http://localhost:5173"
	t.Run("by default any origin may POST with the headers the page and a JWT client send", func(t *testing.T) {
		w := serve(localServer(t), preflight(shop, "POST", "content-type, Idempotency-Key, Authorization"))
		h := w.Header()
		if w.Code != 204 || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Methods") != "GET,POST" ||
			h.Get("Access-Control-Allow-Headers") != "authorization,content-type,idempotency-key" || h.Get("Access-Control-Max-Age") != "600" {
			t.Fatalf("got %d %v", w.Code, h)
		}
	})
	h := localServer(t, localapi.WithCORS(func() localapi.CORS {
		c := localapi.DefaultCORS()
		c.AllowOrigins = localapi.ParseOrigins(shop + "/, https://shop.example.com")
		return c
	}()))
	for _, tc := range []struct {
		name, origin, method, headers string
		allowed                       bool
	}{
		{"a configured origin is allowed", shop, "POST", "content-type,idempotency-key", true},
		{"the other configured origin is allowed", "https://shop.example.com", "GET", "", true},
		{"another origin gets no allow headers", "http://evil.example", "POST", "content-type", false},
		{"a method the template does not allow gets none", shop, "DELETE", "", false},
		{"a header the template does not allow gets none", shop, "POST", "content-type,x-secret", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(h, preflight(tc.origin, tc.method, tc.headers))
			got := w.Header().Get("Access-Control-Allow-Origin")
			if w.Code != 204 || (got == tc.origin) != tc.allowed || (!tc.allowed && got != "") {
				t.Fatalf("got %d, Access-Control-Allow-Origin %q", w.Code, got)
			}
		})
	}
	t.Run("an answer to an allowed origin exposes the replay header", func(t *testing.T) {
		r := rawRequest("POST", "/checkout", map[string]string{"Origin": shop, "Content-Type": "application/json", idem.KeyHeader: "cors-1"}, validCheckout)
		w := serve(h, r)
		if w.Code != 201 || w.Header().Get("Access-Control-Allow-Origin") != shop ||
			w.Header().Get("Access-Control-Expose-Headers") != "idempotent-replayed,retry-after,location" || w.Header().Get("Vary") != "Origin" {
			t.Fatalf("got %d %v", w.Code, w.Header())
		}
	})
}

// TestOneKeyPerRequestLocallyAndInLambda sends the same Idempotency-Key fields to the local
// server's handler and, as an API Gateway HTTP API would (payload 2.0: repeated fields joined
// with commas), through the real Lambda adapter to the same handler: the answers agree.
func TestOneKeyPerRequestLocallyAndInLambda(t *testing.T) {
	cases := []struct {
		name   string
		fields []string
		status int
	}{
		{"one bare key", []string{"k-one"}, 201},
		{"one quoted key holding a comma", []string{`"k,two"`}, 201},
		{"a bare key holding a comma", []string{"k,three"}, 400},
		{"two fields", []string{"k-four", "k-five"}, 400},
		{"an empty field", []string{""}, 400},
	}
	local, lambda := localServer(t), localServer(t)
	proxy := httpadapter.NewV2(lambda).ProxyWithContext
	for _, tc := range cases {
		t.Run(tc.name+" answers "+http.StatusText(tc.status)+" both ways", func(t *testing.T) {
			r := rawRequest("POST", "/checkout", map[string]string{"Content-Type": "application/json"}, validCheckout)
			for _, f := range tc.fields {
				r.Header.Add(idem.KeyHeader, f)
			}
			w := serve(local, r)
			ev := events.APIGatewayV2HTTPRequest{
				Version: "2.0", RawPath: "/checkout", Body: validCheckout,
				Headers: map[string]string{"content-type": "application/json", "idempotency-key": strings.Join(tc.fields, ",")},
				RequestContext: events.APIGatewayV2HTTPRequestContext{
					HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/checkout"},
				},
			}
			res, err := proxy(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if w.Code != tc.status || res.StatusCode != tc.status {
				t.Fatalf("local %d %s; lambda %d %s; want %d", w.Code, w.Body, res.StatusCode, res.Body, tc.status)
			}
			if tc.status == 400 && (w.Header().Get("Content-Type") != problem.ContentType || !strings.Contains(res.Body, problem.KeyInvalid)) {
				t.Fatalf("local %s; lambda %s; want key-invalid problems", w.Body, res.Body)
			}
		})
	}
}
