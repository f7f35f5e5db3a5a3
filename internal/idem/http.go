package idem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/checkout-idem/checkout/internal/emf"
	"github.com/checkout-idem/checkout/internal/problem"
)

// HTTP defaults and names.
const (
	DefaultMaxBody = 1 << 20
	// ReplayedHeader marks a replayed response, as Stripe does.
	ReplayedHeader = "Idempotent-Replayed"
)

// Outcome is what the middleware did with one request; it is logged and counted.
type Outcome string

const (
	Executed    Outcome = "executed"    // claimed, ran the handler, stored the response
	Replayed    Outcome = "replayed"    // answered from a completed record (possibly after waiting)
	Conflict    Outcome = "conflict"    // 409: still in progress after the wait, or lost the record
	Mismatch    Outcome = "mismatch"    // 422: same key, different request
	Released    Outcome = "released"    // ran the handler, which failed: claim deleted, retry runs again
	Rejected    Outcome = "rejected"    // 400/413 before any claim: nothing stored
	Unavailable Outcome = "unavailable" // 503: the store failed; nothing is known to be stored
	Guarded     Outcome = "guarded"     // a claim write failed; Config.GuardFailed answered
)

// Config configures the middleware. Only Store is required.
type Config struct {
	Store Store
	// Scope separates key spaces (for example "POST /checkout" and "webhook:stripe"). Empty: the
	// request's route pattern, else its method and path.
	Scope string
	// TTL, Lease and Wait are the Group's Options (defaults 24 h, 30 s, 5 s).
	TTL, Lease, Wait time.Duration
	// MaxBody caps the request body; larger requests answer 413 unclaimed. Default 1 MiB.
	MaxBody int64
	// Principal returns the caller's identity (the authorizer's principal); "" is anonymous.
	Principal func(*http.Request) string
	// Key returns the client key of a request. Default: HeaderKey (one Idempotency-Key).
	// Errors wrapping ErrKeyMissing or ErrKeyInvalid answer 400.
	Key func(r *http.Request, body []byte) (string, error)
	// Fingerprint identifies what a request asks for; a repeat with another fingerprint answers
	// 422. Default: Fingerprint of the method, path and body bytes. An error answers 400
	// invalid-request unclaimed.
	Fingerprint func(r *http.Request, body []byte) (string, error)
	// Guard returns writes committed atomically with the claim: if one fails, nothing is claimed
	// and GuardFailed answers instead (default 409), unclaimed, with FromContext's Info. An error
	// answers 500 unclaimed.
	Guard       func(r *http.Request, scopedKey string) ([]Write, error)
	GuardFailed http.Handler
	// MismatchDetail is the detail of the 422 for a key reused with another request.
	MismatchDetail string
	// Now is the clock; default time.Now. NewOwner returns a fresh owner token.
	Now      func() time.Time
	NewOwner func() string
	// Logger receives one line per request; default slog.Default(). Namespace is the CloudWatch
	// metrics namespace of its Embedded Metric Format block; default "Checkout/Idempotency".
	Logger    *slog.Logger
	Namespace string
}

// Middleware makes a handler idempotent over a Group: every request must carry a key; the first
// request with a key runs the handler, whose response is stored and replayed (with
// Idempotent-Replayed: true) to every later request with the same key and the same content for
// TTL. A duplicate that arrives while the first runs waits for its result. A different request
// under a used key answers 422 without running.
//
// Storage policy: responses below 500 are stored (a declined card is an answer, replayed as
// such), except 429; a 5xx or 429 response and a panic (answered 500, no stack trace) release
// the claim, so the client's retry runs the handler again, as does a handler that called
// Release. Problems the middleware answers itself
// (400 bad key, 413, 409, 422, 503) are never stored.
func Middleware(cfg Config) func(http.Handler) http.Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Key == nil {
		cfg.Key = HeaderKey
	}
	if cfg.Fingerprint == nil {
		cfg.Fingerprint = func(r *http.Request, body []byte) (string, error) {
			return Fingerprint(r.Method, r.URL.Path, body), nil
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "Checkout/Idempotency"
	}
	if cfg.MismatchDetail == "" {
		cfg.MismatchDetail = "this Idempotency-Key was used with a different request; use a new key for a new request"
	}
	g := NewGroup(cfg.Store, Options{TTL: cfg.TTL, Lease: cfg.Lease, Wait: cfg.Wait, Now: cfg.Now, NewOwner: cfg.NewOwner})
	directive := emf.Directive(cfg.Namespace, []string{"Outcome"}, "Requests") // built once
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e := &exchange{cfg: &cfg, g: g, emf: directive, next: next, w: w, r: r, start: cfg.Now()}
			e.serve()
			e.log()
		})
	}
}

// exchange is one request going through the middleware.
type exchange struct {
	cfg     *Config
	g       *Group
	emf     slog.Attr // the constant CloudWatchMetrics directive
	next    http.Handler
	w       http.ResponseWriter
	r       *http.Request
	start   time.Time
	outcome Outcome
	status  int
	key     string // scoped
	detail  string
	handled bool // the handler ran: a failed write was the completion's, not the claim's
}

// errRelease carries a response the handler answered but that must not be stored (5xx, 429,
// panic): Do releases the claim and the response still reaches the client.
type errRelease struct{ rw *recorder }

func (e *errRelease) Error() string { return fmt.Sprintf("handler answered %d", e.rw.status) }

func (e *exchange) serve() {
	cfg, r := e.cfg, e.r
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, cfg.MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			e.fail(Rejected, problem.New(http.StatusRequestEntityTooLarge, problem.BodyTooLarge,
				fmt.Sprintf("the request body exceeds %d bytes", cfg.MaxBody)))
			return
		}
		e.fail(Rejected, problem.New(http.StatusBadRequest, problem.InvalidRequest, "the request body could not be read"))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	clientKey, err := cfg.Key(r, body)
	if err != nil {
		typ := problem.KeyInvalid
		if errors.Is(err, ErrKeyMissing) {
			typ = problem.KeyMissing
		}
		p := problem.New(http.StatusBadRequest, typ, err.Error())
		p.Field = KeyHeader
		e.fail(Rejected, p)
		return
	}
	scope := cfg.Scope
	if scope == "" {
		if scope = r.Pattern; scope == "" {
			scope = r.Method + " " + r.URL.Path
		}
	}
	principal := ""
	if cfg.Principal != nil {
		principal = cfg.Principal(r)
	}
	e.key = ScopedKey(scope, principal, clientKey)
	fp, err := cfg.Fingerprint(r, body)
	if err != nil {
		e.fail(Rejected, problem.New(http.StatusBadRequest, problem.InvalidRequest, err.Error()))
		return
	}
	call := Call{Key: e.key, Fingerprint: fp, ClientKey: clientKey}
	if cfg.Guard != nil {
		if call.With, err = cfg.Guard(r, e.key); err != nil {
			cfg.Logger.Error("idempotency claim writes", "key", e.key, "error", err.Error())
			e.fail(Rejected, problem.New(http.StatusInternalServerError, problem.Internal, "internal error"))
			return
		}
	}
	resp, replayed, err := e.g.Do(r.Context(), call, e.handle)
	var rel *errRelease
	switch {
	case err == nil && replayed:
		e.replay(resp)
	case err == nil:
		e.outcome, e.status = Executed, resp.Status
		send(e.w, resp)
	case errors.As(err, &rel):
		e.outcome, e.status, e.detail = Released, rel.rw.status, err.Error()
		send(e.w, rel.rw.response())
	case errors.Is(err, ErrMismatch):
		e.fail(Mismatch, problem.New(http.StatusUnprocessableEntity, problem.KeyMismatch, cfg.MismatchDetail))
	case errors.Is(err, ErrInProgress):
		p := problem.New(http.StatusConflict, problem.KeyInProgress,
			"a request with this Idempotency-Key is still in progress; retry later with the same key")
		p.RetryAfter = int(math.Ceil(RetryAfter(err).Seconds()))
		e.fail(Conflict, p)
	case errors.Is(err, ErrTooLarge):
		e.fail(Replayed, problem.New(http.StatusConflict, problem.ResponseTooLarge,
			"this request completed, but its response was too large to store and cannot be replayed"))
	case errors.Is(err, ErrLeaseLost):
		e.detail = err.Error()
		e.fail(Conflict, problem.New(http.StatusConflict, problem.KeyInProgress,
			"this request took too long and another attempt with the same Idempotency-Key took over; retry to receive its result"))
	case errors.Is(err, ErrWriteFailed) && !e.handled:
		e.guardFailed(call)
	case errors.Is(err, ErrWriteFailed):
		e.detail = err.Error()
		e.fail(Released, problem.New(http.StatusConflict, problem.KeyInProgress,
			"the result of this request conflicts with one stored meanwhile; retry with the same Idempotency-Key"))
	default: // ErrUnavailable, ErrWriteKind
		e.detail = err.Error()
		cfg.Logger.Error("idempotency store failed", "key", e.key, "error", err.Error())
		e.fail(Unavailable, problem.Problem{Type: problem.StoreUnavailable, Status: http.StatusServiceUnavailable,
			Detail: "the idempotency store is unavailable; retry with the same Idempotency-Key", RetryAfter: 1})
	}
}

// handle runs the handler under the claim: its response is stored unless it is a 5xx or 429
// or the handler panicked, in which case Do releases the claim.
func (e *exchange) handle(ctx context.Context) (Response, error) {
	e.handled = true
	rw := newRecorder()
	if e.run(rw, e.r.WithContext(ctx)) {
		rw = newRecorder()
		problem.Write(rw, problem.New(http.StatusInternalServerError, problem.Internal, "the request failed; retry with the same Idempotency-Key"))
		return Response{}, &errRelease{rw: rw}
	}
	if rw.status >= 500 || rw.status == http.StatusTooManyRequests || releasing(ctx) {
		return Response{}, &errRelease{rw: rw}
	}
	return *rw.response(), nil
}

// run calls the handler, turning a panic into a report (never a stack trace to the client).
func (e *exchange) run(rw *recorder, r *http.Request) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			panicked = true
			e.cfg.Logger.Error("handler panicked", "panic", fmt.Sprint(v), "path", r.URL.Path)
		}
	}()
	e.next.ServeHTTP(rw, r)
	return false
}

func (e *exchange) replay(resp *Response) {
	h := e.w.Header()
	for k, v := range resp.Header {
		h[k] = append([]string(nil), v...)
	}
	h.Set(ReplayedHeader, "true")
	e.w.WriteHeader(resp.Status)
	_, _ = e.w.Write(resp.Body)
	e.outcome, e.status = Replayed, resp.Status
}

func (e *exchange) guardFailed(call Call) {
	e.outcome = Guarded
	if e.cfg.GuardFailed == nil {
		e.fail(Guarded, problem.New(http.StatusConflict, problem.KeyInProgress, "this Idempotency-Key was already used"))
		return
	}
	rw := &statusWriter{ResponseWriter: e.w, status: http.StatusOK}
	ctx := withInfo(e.r.Context(), Info{Key: call.ClientKey, ScopedKey: call.Key})
	e.cfg.GuardFailed.ServeHTTP(rw, e.r.WithContext(ctx))
	e.status = rw.status
}

func (e *exchange) fail(o Outcome, p problem.Problem) {
	e.outcome, e.status = o, p.Status
	problem.Write(e.w, p)
}

// log writes the request's line (see Log).
func (e *exchange) log() {
	var extra []slog.Attr
	if e.key != "" {
		extra = append(extra, slog.String("key", e.key))
	}
	if e.detail != "" {
		extra = append(extra, slog.String("detail", e.detail))
	}
	Log(e.cfg.Logger, e.emf, e.outcome, e.r, e.status, e.start, e.cfg.Now(), extra...)
}

// Log writes one request's line: its outcome, status, method, path and duration, and an EMF
// block (directive: emf.Directive(namespace, []string{"Outcome"}, "Requests")) counting it, which CloudWatch turns into a metric
// without any API call. The middleware logs every request it sees; handlers log the others
// (rejected before the middleware, reads) the same way, so every request has one line.
func Log(l *slog.Logger, directive slog.Attr, o Outcome, r *http.Request, status int, start, now time.Time, extra ...slog.Attr) {
	attrs := []any{
		slog.String("Outcome", string(o)),
		slog.Int("Requests", 1),
		slog.Int("status", status),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Float64("duration_ms", float64(now.Sub(start).Microseconds())/1000),
		emf.Block(now, directive),
	}
	for _, a := range extra {
		attrs = append(attrs, a)
	}
	l.Info("idempotency", attrs...)
}
