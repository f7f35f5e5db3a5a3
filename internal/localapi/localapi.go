// Package localapi is the wiring of the local server behind `make run`: the same handlers the
// Lambda functions serve, on one mux, with an access log line per request, and the manners API
// Gateway gives the deployed API: every error an RFC 9457 problem (404 and 405 included, for
// any path or method), the template's CORS rules, and header values checked for control
// characters.
package localapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/problem"
)

// Option configures Handler.
type Option func(*settings)

type settings struct{ cors CORS }

// WithCORS replaces the default CORS rules (DefaultCORS: the template's, any origin).
func WithCORS(c CORS) Option { return func(s *settings) { s.cors = c } }

// Handler serves POST /checkout, GET /orders/{id} and POST /webhooks from deps, plus extra
// handlers mounted by pattern (the checkout page at "/", for instance). Whatever a handler or
// the mux answers with a status of 400 or more is sent as a problem; a path that is not in
// canonical form ("//checkout", "/a/../checkout") answers a 404 problem rather than a redirect.
func Handler(deps *app.Deps, extra map[string]http.Handler, opts ...Option) (http.Handler, error) {
	s := settings{cors: DefaultCORS()}
	for _, o := range opts {
		o(&s)
	}
	wh, err := deps.Webhook()
	if err != nil {
		return nil, err
	}
	co := deps.Checkout(nil) // the local server has no authorizer: one key space
	mux := http.NewServeMux()
	mux.Handle("/checkout", co)
	mux.Handle("/orders/{id}", co) // not "/orders/": that would redirect /orders
	mux.Handle("/products", co)
	mux.Handle("/products/{sku}", co)
	mux.Handle("/webhooks", wh)
	for pattern, h := range extra {
		mux.Handle(pattern, h)
	}
	if _, ok := extra["/"]; !ok {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			problem.Write(w, problem.New(http.StatusNotFound, problem.NotFound, "no such resource: "+r.URL.Path))
		})
	}
	return accessLog(deps.Logger, s.cors.wrap(checkHeaders(canonicalPath(problems(mux))))), nil
}

// accessLog writes one line per request.
func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"replayed", w.Header().Get("Idempotent-Replayed") == "true",
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
