// Package localapi is the wiring of the local server behind `make run`: the same handlers the
// Lambda functions serve, on one mux, with an access log line per request.
package localapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/checkout-idem/checkout/internal/app"
	"github.com/checkout-idem/checkout/internal/problem"
)

// Handler serves POST /checkout, GET /orders/{id} and POST /webhooks from deps, plus extra
// handlers mounted by pattern (the checkout page, for instance).
func Handler(deps *app.Deps, extra map[string]http.Handler) (http.Handler, error) {
	wh, err := deps.Webhook()
	if err != nil {
		return nil, err
	}
	co := deps.Checkout(nil) // the local server has no authorizer: one key space
	mux := http.NewServeMux()
	mux.Handle("/checkout", co)
	mux.Handle("/orders/", co)
	mux.Handle("/webhooks", wh)
	for pattern, h := range extra {
		mux.Handle(pattern, h)
	}
	if _, ok := extra["/"]; !ok {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			problem.Write(w, problem.New(http.StatusNotFound, problem.NotFound, "no such resource: "+r.URL.Path))
		})
	}
	return accessLog(deps.Logger, mux), nil
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
