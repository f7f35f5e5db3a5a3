package idem

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/checkout-idem/checkout/internal/problem"
)

// Defaults of Config.
const (
	DefaultTTL     = 24 * time.Hour
	DefaultLease   = 30 * time.Second
	DefaultWait    = 5 * time.Second
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
	Guarded     Outcome = "guarded"     // a claim guard failed; Config.GuardFailed answered
)

// Config configures the middleware. Only Store is required.
type Config struct {
	Store Store
	// Scope separates key spaces (for example "POST /checkout" and "webhook:stripe"). Empty: the
	// request's route pattern, else its method and path.
	Scope string
	// TTL is how long a completed response is replayed (the record's expires_at). Default 24 h.
	TTL time.Duration
	// Lease is how long a claim is held when the request context has no deadline. With a deadline
	// (in Lambda: the invocation's remaining time) the lease ends at the deadline. Default 30 s.
	Lease time.Duration
	// Wait bounds how long a duplicate waits for an in-progress request (never past the request
	// deadline) before answering 409 with Retry-After. Default 5 s.
	Wait time.Duration
	// MaxBody caps the request body; larger requests answer 413 unclaimed. Default 1 MiB.
	MaxBody int64
	// Principal returns the caller's identity (the authorizer's principal); "" is anonymous.
	Principal func(*http.Request) string
	// Key returns the client key of a request. Default: HeaderKey (one Idempotency-Key).
	// Errors wrapping ErrKeyMissing or ErrKeyInvalid answer 400.
	Key func(r *http.Request, body []byte) (string, error)
	// Fingerprint returns what a repeat under the same key must match to be replayed. Default
	// (nil): Fingerprint(method, path, body), byte for byte. An error answers 400
	// invalid-request unclaimed.
	Fingerprint func(r *http.Request, body []byte) (string, error)
	// MismatchDetail is the detail of the 422 for a key reused with a different request;
	// default a sentence about the Idempotency-Key.
	MismatchDetail string
	// Guard returns writes committed atomically with the claim: if one fails, nothing is claimed
	// and GuardFailed answers instead (default 409). Checkout uses it to refuse a second order
	// for a key whose record has expired.
	Guard       func(scopedKey string) []Write
	GuardFailed http.Handler
	// Now is the clock; default time.Now.
	Now func() time.Time
	// NewOwner returns a fresh owner token; default 128 random bits.
	NewOwner func() string
	// Logger receives one line per request; default slog.Default(). Namespace is the CloudWatch
	// metrics namespace of its Embedded Metric Format block; default "Checkout/Idempotency".
	Logger    *slog.Logger
	Namespace string
}

// Info describes the claim a handler runs under; see FromContext.
type Info struct {
	Key       string // the client's key
	ScopedKey string // the stored key: scope, principal and client key, hashed
	Owner     string // the claim's owner token ("" in Config.GuardFailed, which runs unclaimed)
}

type ctxKey struct{}

type claimState struct {
	info   Info
	writes []Write
}

// FromContext returns the claim the request runs under, inside a handler wrapped by Middleware.
func FromContext(ctx context.Context) (Info, bool) {
	s, ok := ctx.Value(ctxKey{}).(*claimState)
	if !ok {
		return Info{}, false
	}
	return s.info, true
}

// Attach adds writes to the completion of the request's claim: they are committed in the same
// transaction as the stored response, or not at all (the request then answers 409 and the claim
// is released). It reports false outside a claimed request.
func Attach(ctx context.Context, writes ...Write) bool {
	s, ok := ctx.Value(ctxKey{}).(*claimState)
	if ok {
		s.writes = append(s.writes, writes...)
	}
	return ok
}

// Middleware makes a handler idempotent: every request must carry a key; the first request with a
// key claims it and runs the handler, whose response is stored and replayed to every later
// request with the same key and the same content (method, path, body; or Config.Fingerprint)
// for TTL. A duplicate that arrives while the first runs waits for its result. A different
// request under a used key answers 422 without running.
//
// Storage policy: responses below 500 are stored (a declined card is an answer, replayed as
// such), except 429; a 5xx or 429 response, a panic (answered 500) and a cancelled request
// release the claim, so the client's retry runs the handler again. Problems the middleware
// answers itself (400 bad key, 413, 409, 422, 503) are never stored.
func Middleware(cfg Config) func(http.Handler) http.Handler {
	if cfg.Store == nil {
		panic("idem: Config.Store is nil")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultWait
	}
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
	if cfg.MismatchDetail == "" {
		cfg.MismatchDetail = "this Idempotency-Key was used with a different request; use a new key for a new request"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewOwner == nil {
		cfg.NewOwner = rand.Text
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "Checkout/Idempotency"
	}
	// The constant part of every line's CloudWatch Embedded Metric Format block, built once.
	emf := slog.Any("CloudWatchMetrics", []any{map[string]any{
		"Namespace":  cfg.Namespace,
		"Dimensions": [][]string{{"Outcome"}},
		"Metrics":    []any{map[string]string{"Name": "Requests", "Unit": "Count"}},
	}})
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e := &exchange{cfg: &cfg, emf: emf, next: next, w: w, r: r, start: cfg.Now()}
			e.serve()
			e.log()
		})
	}
}

// exchange is one request going through the middleware.
type exchange struct {
	cfg     *Config
	emf     slog.Attr // the constant CloudWatchMetrics directive
	next    http.Handler
	w       http.ResponseWriter
	r       *http.Request
	start   time.Time
	outcome Outcome
	status  int
	key     string // scoped
	attempt int
	detail  string
}

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
		scope = r.Pattern
		if scope == "" {
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

	ctx := r.Context()
	waitUntil := e.start.Add(cfg.Wait)
	if dl, ok := ctx.Deadline(); ok {
		// Leave a second to answer before the deadline (and the gateway) gives up.
		if byDeadline := e.start.Add(time.Until(dl) - time.Second); byDeadline.Before(waitUntil) {
			waitUntil = byDeadline
		}
	}
	for {
		now := cfg.Now()
		rec := Record{
			Key: e.key, Status: InProgress, Fingerprint: fp, Owner: cfg.NewOwner(),
			LeaseUntil: now.Add(cfg.Lease), ExpiresAt: now.Add(cfg.TTL), CreatedAt: now,
		}
		if dl, ok := ctx.Deadline(); ok {
			// The remaining time (a real duration), counted on the injected clock.
			rec.LeaseUntil = now.Add(time.Until(dl))
		}
		var guards []Write
		if cfg.Guard != nil {
			guards = cfg.Guard(e.key)
		}
		e.attempt++
		held, err := cfg.Store.Claim(ctx, rec, now, guards...)
		switch {
		case errors.Is(err, ErrWriteFailed):
			e.guardFailed(clientKey, rec)
			return
		case err != nil:
			e.unavailable(err)
			return
		case held == nil:
			e.execute(clientKey, rec)
			return
		}
		if held.Fingerprint != fp {
			e.fail(Mismatch, problem.New(http.StatusUnprocessableEntity, problem.KeyMismatch, cfg.MismatchDetail))
			return
		}
		if held.Status == Completed {
			e.replay(held)
			return
		}
		// In progress elsewhere: wait for its result, or for the claim to free up.
		done, err := e.await(held, waitUntil)
		if err != nil {
			e.unavailable(err)
			return
		}
		if done != nil {
			if done.Fingerprint != fp {
				e.fail(Mismatch, problem.New(http.StatusUnprocessableEntity, problem.KeyMismatch, cfg.MismatchDetail))
				return
			}
			e.replay(done)
			return
		}
		if !cfg.Now().Before(waitUntil) || ctx.Err() != nil {
			e.inProgress(held)
			return
		}
		// The holder released its claim or its lease ran out: claim again.
	}
}

// await polls the record with backoff until it completes (returned), disappears or can be taken
// over (nil, nil), or waitUntil passes (nil, nil).
func (e *exchange) await(held *Record, waitUntil time.Time) (*Record, error) {
	ctx := e.r.Context()
	delay := 25 * time.Millisecond
	for {
		now := e.cfg.Now()
		left := waitUntil.Sub(now)
		if left <= 0 {
			return nil, nil
		}
		if until := held.LeaseUntil.Sub(now); until > 0 && until < delay {
			delay = until // wake up when the lease ends, to take over
		}
		t := time.NewTimer(min(delay, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil
		case <-t.C:
		}
		delay = min(delay*2, 400*time.Millisecond)
		cur, err := e.cfg.Store.Get(ctx, e.key, e.cfg.Now())
		if err != nil {
			return nil, err
		}
		if cur == nil || !cur.live(e.cfg.Now()) {
			return nil, nil
		}
		if cur.Status == Completed {
			return cur, nil
		}
		held = cur
	}
}

// execute runs the handler under the claim rec and completes or releases it.
func (e *exchange) execute(clientKey string, rec Record) {
	state := &claimState{info: Info{Key: clientKey, ScopedKey: rec.Key, Owner: rec.Owner}}
	ctx := context.WithValue(e.r.Context(), ctxKey{}, state)
	rw := newRecorder()
	panicked := e.run(rw, e.r.WithContext(ctx))
	// Finish even if the client went away: the work is done, so store or release it.
	bg := context.WithoutCancel(ctx)
	switch {
	case panicked:
		e.release(bg, rec, "handler panicked")
		e.fail(Released, problem.New(http.StatusInternalServerError, problem.Internal, "the request failed; retry with the same Idempotency-Key"))
		return
	case e.r.Context().Err() != nil:
		e.release(bg, rec, "request cancelled: "+e.r.Context().Err().Error())
		e.outcome, e.status = Released, rw.status
		rw.send(e.w)
		return
	case rw.status >= 500 || rw.status == http.StatusTooManyRequests:
		e.release(bg, rec, fmt.Sprintf("handler answered %d", rw.status))
		e.outcome, e.status = Released, rw.status
		rw.send(e.w)
		return
	}
	rec.Status = Completed
	rec.Response = fit(rw.response())
	if rec.Response.TooLarge {
		e.detail = fmt.Sprintf("response of %d bytes not stored: over %d bytes compressed", len(rw.body.Bytes()), MaxStored)
	}
	err := e.cfg.Store.Complete(bg, rec, state.writes...)
	switch {
	case err == nil:
		e.outcome, e.status = Executed, rw.status
		rw.send(e.w)
	case errors.Is(err, ErrNotOwner):
		// Our lease ran out and another request took the key over; its result is the one that
		// counts, and the attached writes were not committed.
		e.detail = "lease lost before completion"
		if cur, gerr := e.cfg.Store.Get(bg, rec.Key, e.cfg.Now()); gerr == nil && cur != nil &&
			cur.Status == Completed && cur.Fingerprint == rec.Fingerprint {
			e.replay(cur)
			return
		}
		e.fail(Conflict, problem.New(http.StatusConflict, problem.KeyInProgress,
			"this request took too long and another attempt with the same Idempotency-Key took over; retry to receive its result"))
	case errors.Is(err, ErrWriteFailed):
		e.release(bg, rec, err.Error())
		e.fail(Released, problem.New(http.StatusConflict, problem.KeyInProgress,
			"the result of this request conflicts with one stored meanwhile; retry with the same Idempotency-Key"))
	default:
		e.release(bg, rec, "completion failed: "+err.Error())
		e.detail = err.Error()
		e.fail(Unavailable, problem.Problem{Type: problem.StoreUnavailable, Status: http.StatusServiceUnavailable,
			Detail: "the result could not be stored; retry with the same Idempotency-Key", RetryAfter: 1})
	}
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

func (e *exchange) release(ctx context.Context, rec Record, why string) {
	e.detail = why
	if err := e.cfg.Store.Release(ctx, rec.Key, rec.Owner); err != nil && !errors.Is(err, ErrNotOwner) {
		// The claim stays until its lease ends; retries then take it over.
		e.cfg.Logger.Warn("idempotency claim not released", "key", rec.Key, "error", err.Error())
	}
}

func (e *exchange) replay(rec *Record) {
	resp := rec.Response
	if resp == nil || resp.TooLarge {
		e.fail(Replayed, problem.New(http.StatusConflict, problem.ResponseTooLarge,
			"this request completed, but its response was too large to store and cannot be replayed"))
		return
	}
	h := e.w.Header()
	for k, v := range resp.Header {
		h[k] = append([]string(nil), v...)
	}
	h.Set(ReplayedHeader, "true")
	e.w.WriteHeader(resp.Status)
	_, _ = e.w.Write(resp.Body)
	e.outcome, e.status = Replayed, resp.Status
}

func (e *exchange) inProgress(held *Record) {
	retry := int(math.Ceil(held.LeaseUntil.Sub(e.cfg.Now()).Seconds()))
	retry = max(1, min(retry, 10))
	p := problem.New(http.StatusConflict, problem.KeyInProgress,
		"a request with this Idempotency-Key is still in progress; retry later with the same key")
	p.RetryAfter = retry
	e.fail(Conflict, p)
}

func (e *exchange) guardFailed(clientKey string, rec Record) {
	e.outcome = Guarded
	if e.cfg.GuardFailed == nil {
		e.fail(Guarded, problem.New(http.StatusConflict, problem.KeyInProgress,
			"this Idempotency-Key was already used"))
		return
	}
	state := &claimState{info: Info{Key: clientKey, ScopedKey: rec.Key}}
	rw := &statusWriter{ResponseWriter: e.w, status: http.StatusOK}
	e.cfg.GuardFailed.ServeHTTP(rw, e.r.WithContext(context.WithValue(e.r.Context(), ctxKey{}, state)))
	e.status = rw.status
}

func (e *exchange) unavailable(err error) {
	e.detail = err.Error()
	e.fail(Unavailable, problem.Problem{Type: problem.StoreUnavailable, Status: http.StatusServiceUnavailable,
		Detail: "the idempotency store is unavailable; nothing was done, retry with the same Idempotency-Key", RetryAfter: 1})
}

func (e *exchange) fail(o Outcome, p problem.Problem) {
	e.outcome, e.status = o, p.Status
	problem.Write(e.w, p)
}

// log writes the request's line: its outcome, and a CloudWatch Embedded Metric Format block
// counting it (metric Requests, dimension Outcome), which CloudWatch turns into a metric.
func (e *exchange) log() {
	now := e.cfg.Now()
	attrs := []any{
		slog.String("Outcome", string(e.outcome)),
		slog.Int("Requests", 1),
		slog.Int("status", e.status),
		slog.String("method", e.r.Method),
		slog.String("path", e.r.URL.Path),
		slog.Float64("duration_ms", float64(now.Sub(e.start).Microseconds())/1000),
		slog.Group("_aws", slog.Int64("Timestamp", now.UnixMilli()), e.emf),
	}
	if e.key != "" {
		attrs = append(attrs, slog.String("key", e.key), slog.Int("attempt", e.attempt))
	}
	if e.detail != "" {
		attrs = append(attrs, slog.String("detail", e.detail))
	}
	e.cfg.Logger.Info("idempotency", attrs...)
}

// fit marks a response too large to store even compressed.
func fit(resp *Response) *Response {
	if len(resp.Body) <= MaxStored {
		return resp
	}
	if z, err := gzipBytes(resp.Body); err == nil && len(z) <= MaxStored {
		return resp
	}
	return &Response{Status: resp.Status, TooLarge: true}
}

// recorder buffers the handler's response until it is stored.
type recorder struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	return r.body.Write(b)
}

func (r *recorder) response() *Response {
	return &Response{Status: r.status, Header: r.header.Clone(), Body: bytes.Clone(r.body.Bytes())}
}

func (r *recorder) send(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range r.header {
		h[k] = v
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}

// statusWriter remembers the status a handler wrote, for the log line.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
