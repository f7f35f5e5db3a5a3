package checkout

import (
	"context"
	"net/http"

	"github.com/checkout-idem/checkout/internal/emf"
	"github.com/checkout-idem/checkout/internal/idem"
)

// Outcomes of the requests the idempotency middleware does not see (it logs its own).
const (
	outcomeRead     idem.Outcome = "read"     // GET /orders/{id} answered
	outcomeRejected idem.Outcome = "rejected" // a 4xx before any claim: validation, 404, 405, 415
)

type engineLogs struct{}

// logged gives every request one log line and metric, as the middleware gives those it sees:
// order reads and requests rejected before the claim are logged here.
func (s *service) logged(next http.Handler) http.Handler {
	directive := emf.Directive("Checkout/Idempotency", []string{"Outcome"}, "Requests")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		byEngine := new(bool)
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), engineLogs{}, byEngine)))
		if *byEngine {
			return
		}
		o := outcomeRejected
		switch {
		case sw.status < 300:
			o = outcomeRead
		case sw.status >= 500:
			o = idem.Unavailable
		}
		idem.Log(s.Logger, directive, o, r, sw.status, start, s.Now())
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
