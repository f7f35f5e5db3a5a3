package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/checkout-idem/checkout/internal/emf"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/problem"
)

// Path is the route the handler serves (POST only).
const Path = "/webhooks"

// Idempotency scopes of deliveries, one per scheme: webhook ids never share a key space with
// each other or with checkout's Idempotency-Keys.
const (
	StripeScope   = "webhook:stripe"
	StandardScope = "webhook:standard"
)

// Defaults of Options.
const (
	// DefaultTTL is how long a delivery's answer is kept and replayed: Stripe redelivers an
	// unacknowledged event for up to three days, so three days plus one of margin. A duplicate
	// after that (a manual resend) is applied again, which is harmless: Apply never moves an
	// order backwards, so it answers applied:false.
	DefaultTTL = 96 * time.Hour
	// DefaultInFlight is how young an event for an unknown order must be to be answered 503
	// (retry later) rather than 200 "unknown order". The checkout writes its order before it
	// creates the payment, so this covers only a lagging store or clock skew; 15 minutes is
	// ample.
	DefaultInFlight = 15 * time.Minute
	// inFlightRetryAfter is the Retry-After of that 503, in seconds: about one checkout lease.
	inFlightRetryAfter = 30
)

// Options are the dependencies of [NewHandler]. Orders and Idem are required; a nil verifier
// rejects every delivery of its scheme.
type Options struct {
	Stripe   Verifier // deliveries carrying Stripe-Signature
	Standard Verifier // deliveries carrying webhook-signature (Standard Webhooks)
	Orders   orders.Store
	Idem     idem.Store
	// TTL is how long a delivery's answer is replayed to duplicates (default DefaultTTL, 96 h);
	// Wait how long a concurrent duplicate waits for the first delivery (default idem's 5 s).
	TTL, Wait time.Duration
	// Now is the clock of verification, idempotency records and orders; default time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// InFlight: an event for an unknown order created less than InFlight ago answers 503 so the
	// provider redelivers it; an older one answers 200 "unknown order". Default DefaultInFlight.
	InFlight time.Duration
}

// NewHandler returns the handler of POST /webhooks (see the package documentation for what it
// answers). Other methods on /webhooks answer 405 with Allow: POST, other paths 404, both as
// problems. It panics when Orders or Idem is nil.
func NewHandler(opts Options) http.Handler {
	if opts.Orders == nil || opts.Idem == nil {
		panic("webhook: Options.Orders and Idem are required")
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.InFlight <= 0 {
		opts.InFlight = DefaultInFlight
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &handler{Options: opts}
	apply := http.HandlerFunc(h.apply)
	middleware := func(scope string) http.Handler {
		return idem.Middleware(idem.Config{
			Store: opts.Idem, Scope: scope, TTL: opts.TTL, Wait: opts.Wait, MaxBody: MaxBodyBytes,
			Key: deliveryKey, Now: opts.Now, Logger: opts.Logger, MismatchDetail: MismatchDetail,
		})(apply)
	}
	h.stripe, h.standard = middleware(StripeScope), middleware(StandardScope)

	mux := http.NewServeMux()
	mux.HandleFunc("POST "+Path, h.receive)
	mux.HandleFunc(Path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		problem.Write(w, problem.New(http.StatusMethodNotAllowed, problem.MethodNotAllowed,
			r.Method+" is not allowed on "+Path+"; use POST"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, problem.New(http.StatusNotFound, problem.NotFound, "no such resource: "+r.URL.Path))
	})
	return mux
}

// MismatchDetail is the detail of the 422 answering a delivery whose event id was seen with a
// different event: an event id names one event, so the second is refused, not applied.
const MismatchDetail = "this event id was already delivered with a different event; an event id names one event, " +
	"so this delivery is not applied"

type handler struct {
	Options
	stripe, standard http.Handler // apply, behind the idempotency engine of each scope
}

// verified is what the verify layer hands the apply layer through the request context.
type verified struct {
	scheme   string // "stripe" or "standard"
	delivery Delivery
	event    Event
}

type verifiedKey struct{}

// deliveryKey is the idempotency key of a verified request: its Delivery.ID.
func deliveryKey(r *http.Request, _ []byte) (string, error) {
	v, ok := r.Context().Value(verifiedKey{}).(verified)
	if !ok || v.delivery.ID == "" {
		return "", fmt.Errorf("%w: no verified delivery", idem.ErrKeyMissing)
	}
	return v.delivery.ID, nil
}

// receive authenticates a delivery over its raw bytes before anything is claimed or stored,
// then hands it to the idempotency engine of its scheme.
func (h *handler) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.reject(w, r, "", problem.New(http.StatusRequestEntityTooLarge, problem.BodyTooLarge,
				fmt.Sprintf("the request body exceeds %d bytes", MaxBodyBytes)), "body too large")
			return
		}
		h.reject(w, r, "", problem.New(http.StatusBadRequest, problem.InvalidRequest,
			"the request body could not be read"), "body unreadable: "+err.Error())
		return
	}
	scheme, v, next := "", Verifier(nil), http.Handler(nil)
	switch {
	case headerValue(r.Header, StripeSignatureHeader) != "":
		scheme, v, next = "stripe", h.Stripe, h.stripe
	case headerValue(r.Header, StandardSignatureHeader) != "":
		scheme, v, next = "standard", h.Standard, h.standard
	default:
		h.reject(w, r, "", problem.New(http.StatusBadRequest, problem.SignatureInvalid,
			"no Stripe-Signature or webhook-signature header"), "no signature header")
		return
	}
	if v == nil {
		h.reject(w, r, scheme, problem.New(http.StatusBadRequest, problem.SignatureInvalid,
			"deliveries signed this way are not accepted here"), "no "+scheme+" secret configured")
		return
	}
	d, err := v.Verify(r.Header, body, h.Now())
	var ev Event
	if err == nil {
		ev, err = ParseEvent(body)
	}
	if err != nil {
		typ, detail := problem.SignatureInvalid, "the webhook signature could not be verified"
		if errors.Is(err, ErrTimestamp) {
			detail = "the webhook timestamp is outside the tolerance"
		}
		if errors.Is(err, ErrMalformedEvent) {
			typ, detail = problem.EventInvalid, "the body is not a payment event"
		}
		h.reject(w, r, scheme, problem.New(http.StatusBadRequest, typ, detail), err.Error())
		return
	}
	// The engine fingerprints the body it reads. It gets the fields of the event that matter
	// rather than the raw bytes, so that a redelivery whose volatile fields differ (Stripe's
	// pending_webhooks, say) still replays, while a delivery id reused for a different event
	// answers 422.
	canonical, err := json.Marshal(ev)
	if err != nil {
		canonical = body // not reachable: Event holds only strings, numbers, bools and a time
	}
	r.Body = io.NopCloser(bytes.NewReader(canonical))
	ctx := context.WithValue(r.Context(), verifiedKey{}, verified{scheme: scheme, delivery: d, event: ev})
	next.ServeHTTP(w, r.WithContext(ctx))
}

// reject answers a delivery refused before the engine saw it, and logs one line with the reason
// (an error from Verify or ParseEvent, which never carries a secret or a signature). The line
// is also a CloudWatch Embedded Metric Format record: metric Rejected in namespace
// MetricsNamespace, which the template's alarm on a burst of rejections (a wrong or missing
// secret, or an attack) watches.
func (h *handler) reject(w http.ResponseWriter, r *http.Request, scheme string, p problem.Problem, reason string) {
	h.Logger.WarnContext(r.Context(), "webhook rejected",
		slog.String("scheme", scheme), slog.Int("status", p.Status), slog.String("type", p.Type),
		slog.String("reason", reason), slog.Int("Rejected", 1),
		emf.Block(h.Now(), rejectionMetric))
	problem.Write(w, p)
}

// rejectionMetric is the constant directive of reject's EMF record.
var rejectionMetric = emf.Directive(MetricsNamespace, nil, "Rejected")
