package checkout

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

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/stock"
)

// Scope is the idempotency scope of POST /checkout: keys of other routes never collide with it.
const Scope = "POST /checkout"

// Options are the dependencies of the handler. Catalog, Orders, Payments and Idem are required.
type Options struct {
	// Catalog prices carts: wrap the catalog's store in its short-lived cache (catalog.NewCache).
	Catalog  Pricer
	Orders   orders.Store
	Payments payment.Provider
	Idem     idem.Store
	// TTL is how long a checkout's response is replayed, Wait how long a duplicate waits for
	// the first request; zero means idem's defaults (24 h, 5 s).
	TTL, Wait time.Duration
	// Principal returns the caller's identity, which scopes idempotency keys; nil: anonymous.
	Principal func(*http.Request) string
	// Logger defaults to slog.Default(); Now (the clock of orders and idempotency records) to
	// time.Now.
	Logger *slog.Logger
	Now    func() time.Time
}

// New returns the handler of POST /checkout and GET /orders/{id}. Every error it answers is an
// RFC 9457 problem, including 404 for unknown paths and 405 (with Allow) for other methods.
// It panics when a required dependency is nil, or when the idempotency store cannot commit the
// order store's writes (a memory store paired with a DynamoDB one): wiring mistakes fail at
// start-up, never as writes silently skipped.
func New(opts Options) http.Handler {
	if opts.Catalog == nil || opts.Orders == nil || opts.Payments == nil || opts.Idem == nil {
		panic("checkout: Options.Catalog, Orders, Payments and Idem are required")
	}
	if err := Check(opts.Idem, opts.Orders); err != nil {
		panic(err.Error())
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &service{Options: opts}
	s.idempotent = idem.Middleware(idem.Config{
		Store:     opts.Idem,
		Scope:     Scope,
		TTL:       opts.TTL,
		Wait:      opts.Wait,
		MaxBody:   MaxBody,
		Principal: opts.Principal,
		// The parameters, not the bytes: a repeat that differs only in field order, spacing or
		// an explicit null replays (request.fingerprint).
		Fingerprint: func(r *http.Request, _ []byte) (string, error) {
			req, ok := r.Context().Value(requestKey{}).(request)
			if !ok {
				return "", errors.New("the request was not validated")
			}
			return req.fingerprint(), nil
		},
		Now:    opts.Now,
		Logger: opts.Logger,
	})(http.HandlerFunc(s.pay))

	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout", s.checkout)
	mux.HandleFunc("GET /orders/{id}", s.getOrder)
	mux.HandleFunc("/checkout", methodNotAllowed(http.MethodPost))
	mux.HandleFunc("/orders/{id}", methodNotAllowed(http.MethodGet, http.MethodHead))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, problem.New(http.StatusNotFound, problem.NotFound, "no such resource: "+r.URL.Path))
	})
	return s.logged(mux)
}

// Check reports whether keys can commit the writes of store: the order's outcome is written in
// the same transaction as the idempotency completion, so both must live in one database.
func Check(keys idem.Store, store orders.Store) error {
	ws, err := store.Settle(orders.Order{ID: orderPrefix + "check"}, orders.Paid, "", time.Time{})
	if err != nil || len(ws) == 0 {
		return fmt.Errorf("checkout: the order store cannot build a write: %v", err)
	}
	if err := keys.Accepts(ws[0]); err != nil {
		return fmt.Errorf("checkout: the idempotency store cannot commit the order store's writes (%T with %T): %w", keys, store, err)
	}
	return nil
}

// Pricer reads the named products of the catalog that exist (catalog.Store does).
type Pricer interface {
	Products(ctx context.Context, skus []string) (map[string]catalog.Product, error)
}

type service struct {
	Options
	idempotent http.Handler
	soldOut    soldOut
}

type requestKey struct{}

// checkout validates a request before the idempotency engine sees it, so a request that could
// never run claims nothing and stores nothing (as Stripe does): the key first (a client without
// one learns that before anything else), then the body's size, its media type (415) and its
// syntax and fields.
func (s *service) checkout(w http.ResponseWriter, r *http.Request) {
	if _, err := idem.HeaderKey(r, nil); err != nil {
		typ := problem.KeyInvalid
		if errors.Is(err, idem.ErrKeyMissing) {
			typ = problem.KeyMissing
		}
		p := problem.New(http.StatusBadRequest, typ, err.Error())
		p.Field = idem.KeyHeader
		problem.Write(w, p)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			problem.Write(w, problem.New(http.StatusRequestEntityTooLarge, problem.BodyTooLarge,
				fmt.Sprintf("the request body exceeds %d bytes", MaxBody)))
			return
		}
		problem.Write(w, problem.New(http.StatusBadRequest, problem.InvalidRequest, "the request body could not be read"))
		return
	}
	// An empty body needs no type: it answers 400 "empty" below.
	if ct := r.Header.Get("Content-Type"); len(body) > 0 || ct != "" {
		if detail := checkMediaType(ct); detail != "" {
			problem.Write(w, problem.New(http.StatusUnsupportedMediaType, problem.MediaType, detail))
			return
		}
	}
	req, err := parseRequest(body)
	if err != nil {
		var fe *fieldError
		errors.As(err, &fe)
		p := problem.New(http.StatusBadRequest, problem.InvalidRequest, fe.Detail)
		p.Field = fe.Field
		problem.Write(w, p)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if byEngine, ok := r.Context().Value(engineLogs{}).(*bool); ok {
		*byEngine = true // the middleware logs this request
	}
	s.idempotent.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestKey{}, req)))
}

// pay runs once per key, under the engine's claim, whose write is a single conditional PutItem
// of the record. It prices the cart, then reserves: the order, created, and its units, taken
// from stock in one transaction before any money moves (a recovery point: a charge can never
// exist without an order pointing at it, and a crash after the charge leaves the order
// created, which a retry, the provider's webhook or the reconciler settles). Then it charges,
// and attaches the order's outcome to the claim's completion, so the outcome and the stored
// response are committed together. Answers the buyer can fix (an unknown sku, a changed price,
// too few units) release the claim: nothing is stored, and the same key may be retried.
func (s *service) pay(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	info, ok := idem.FromContext(ctx)
	req, ok2 := ctx.Value(requestKey{}).(request)
	if !ok || !ok2 {
		s.Logger.ErrorContext(ctx, "checkout: handler ran outside its claim")
		problem.Write(w, problem.New(http.StatusInternalServerError, problem.Internal, "internal error"))
		return
	}
	id := OrderID(info.ScopedKey)
	c, p := s.price(ctx, req)
	if p != nil {
		idem.Release(ctx)
		if answered, _ := s.answeredBefore(w, r, id); !answered {
			problem.Write(w, *p)
		}
		return
	}
	now := s.Now()
	skus, probes := s.soldOut.short(c.lines, now)
	if len(skus) > 0 {
		// The key's own order may hold the units the mark counts as gone (an earlier attempt
		// reserved them and stalled): then the reservation below finds them, and pays.
		answered, holds := s.answeredBefore(w, r, id)
		if !holds {
			idem.Release(ctx)
			if !answered {
				outOfStock(w, skus)
			}
			return
		}
	}
	principal := ""
	if s.Principal != nil {
		principal = s.Principal(r)
	}
	order, err := s.Orders.Reserve(ctx, orders.Order{
		ID: id, Lines: c.lines, Amount: c.total, Currency: req.Currency,
		CustomerEmail: req.CustomerEmail, PaymentMethod: req.PaymentMethod, Owner: principal,
		ProviderKey: ProviderKey(info.ScopedKey), CreatedAt: now, UpdatedAt: now,
	}, c.shards)
	var short *stock.ShortError
	switch {
	case errors.As(err, &short):
		s.soldOut.note(short.Left, s.Now()) // from the answer: a walk over many empty shards takes time
		idem.Release(ctx)
		outOfStock(w, short.SKUs)
		return
	case errors.Is(err, orders.ErrConflict):
		// The key's order exists beyond created (its idempotency record expired): answer it.
		idem.Release(ctx)
		s.existingOrder(w, r, order)
		return
	case err != nil:
		s.Logger.ErrorContext(ctx, "checkout: reserve", "order_id", id, "error", err.Error())
		problem.Write(w, problem.Problem{Type: problem.StoreUnavailable, Status: http.StatusServiceUnavailable,
			Detail: "the order store is unavailable; retry with the same Idempotency-Key", RetryAfter: 1})
		return
	}
	if len(probes) > 0 {
		s.soldOut.clear(probes) // the probe found units: they came back
	}
	req.Amount = order.Amount
	intent, err := s.charge(ctx, id, req, info.ScopedKey)
	var declined *payment.DeclinedError
	var rejected *payment.RejectedError
	var notYet *retryLater
	switch {
	case err == nil:
	case errors.As(err, &declined):
		// A decline is an answer: the failed order (its units back in stock) and the 402 are
		// stored and replayed.
		if !s.settle(ctx, w, order, orders.Failed, declined.IntentID) {
			return
		}
		code := declined.Code
		if declined.DeclineCode != "" && declined.DeclineCode != code {
			code += ": " + declined.DeclineCode
		}
		p := problem.New(http.StatusPaymentRequired, problem.PaymentDeclined, fmt.Sprintf(
			"the payment was declined (%s); order %s is failed; start a new checkout with a new Idempotency-Key to pay another way", code, id))
		p.OrderID = id
		problem.Write(w, p)
		return
	case errors.As(err, &notYet):
		s.release(ctx, order)
		p := problem.New(http.StatusBadGateway, problem.ProviderError, notYet.detail)
		p.RetryAfter = notYet.after
		problem.Write(w, p)
		return
	case errors.Is(err, payment.ErrUnavailable):
		// Nothing is known to have happened: the units go back, the engine releases the claim
		// on 5xx, the order stays created, and the retry takes the units again and sends the
		// same provider key, so a charge that did happen is found, not repeated.
		s.Logger.WarnContext(ctx, "checkout: payment provider unavailable", "order_id", id, "error", err.Error())
		s.release(ctx, order)
		p := problem.New(http.StatusBadGateway, problem.ProviderError,
			"the payment provider could not be reached; retry with the same Idempotency-Key")
		p.RetryAfter = 1
		problem.Write(w, p)
		return
	case errors.As(err, &rejected):
		s.rejected(w, r, order, rejected)
		return
	default:
		s.Logger.ErrorContext(ctx, "checkout: unexpected payment result", "order_id", id, "error", err.Error())
		s.release(ctx, order)
		problem.Write(w, problem.New(http.StatusBadGateway, problem.ProviderError, "the payment provider gave an unexpected answer"))
		return
	}
	switch intent.Outcome {
	case payment.Succeeded:
		order.Status = orders.Paid
	case payment.RequiresAction:
		order.Status = orders.RequiresAction
	case payment.Pending:
		order.Status = orders.Pending
	default:
		s.Logger.ErrorContext(ctx, "checkout: unknown payment outcome", "order_id", id, "intent", intent.ID, "outcome", string(intent.Outcome))
		s.release(ctx, order)
		problem.Write(w, problem.New(http.StatusBadGateway, problem.ProviderError, "the payment provider gave an unexpected answer"))
		return
	}
	if !s.settle(ctx, w, order, order.Status, intent.ID) {
		return
	}
	order.PaymentIntentID = intent.ID
	res := view(order)
	if order.Status != orders.Paid {
		res.ClientSecret = intent.ClientSecret
	}
	w.Header().Set("Location", "/orders/"+id)
	writeJSON(w, http.StatusCreated, res)
}

// release puts the order's units back before a 5xx answer: the claim is released, and the retry
// takes them again. A payment that did happen meanwhile takes them again when it is applied
// (or is refunded when they are gone). A failure leaves them held: the reconciler abandons the
// order and puts them back.
func (s *service) release(ctx context.Context, o orders.Order) {
	if err := s.Orders.Release(context.WithoutCancel(ctx), o, s.Now()); err != nil {
		s.Logger.ErrorContext(ctx, "checkout: units not released", "order_id", o.ID, "error", err.Error())
	}
}

// settle attaches the order's outcome to the claim's completion. When it cannot (a bug: the
// outcome is valid and pay runs under a claim), it answers 500, which releases the claim, and
// reports false.
func (s *service) settle(ctx context.Context, w http.ResponseWriter, o orders.Order, to orders.Status, intentID string) bool {
	writes, err := s.Orders.Settle(o, to, intentID, s.Now())
	ws := make([]idem.Write, len(writes))
	for i, w := range writes {
		ws[i] = w
	}
	if err == nil && idem.Attach(ctx, ws...) {
		return true
	}
	s.Logger.ErrorContext(ctx, "checkout: order outcome not attached", "order_id", o.ID, "status", string(to), "error", fmt.Sprint(err))
	problem.Write(w, problem.New(http.StatusInternalServerError, problem.Internal, "internal error"))
	return false
}

// rejected answers a request the provider refused. Buyer input it names (an unknown payment
// method, an amount below the currency's minimum) is a 400 of its own type,
// payment-provider-refused, so a client can tell it from our validation's invalid-request (which
// is not stored: the same key may be retried with a fixed body); an idempotency_error means the provider saw
// this key with other parameters (an earlier attempt under the same key, whose answer was lost,
// asked for something else): 422, as the engine answers for the same case. Both are stored:
// the provider would answer the same again. Anything else (a bad API key, a parameter we send
// wrongly) is our fault: 502, released, logged at error level.
func (s *service) rejected(w http.ResponseWriter, r *http.Request, o orders.Order, e *payment.RejectedError) {
	id := o.ID
	if field, ok := buyerFields[e.Param]; ok && e.Type == "invalid_request_error" && e.StatusCode < 500 &&
		e.StatusCode != http.StatusUnauthorized && e.StatusCode != http.StatusForbidden {
		s.Logger.InfoContext(r.Context(), "checkout: payment rejected for buyer input", "order_id", id, "error", e.Error())
		if !s.settle(r.Context(), w, o, orders.Failed, "") {
			return
		}
		p := problem.New(http.StatusBadRequest, problem.ProviderRefused, "the payment provider refused "+field+": "+e.Message+
			"; this answer is stored: send the corrected request with a new Idempotency-Key")
		p.Field = field
		problem.Write(w, p)
		return
	}
	if e.Type == "idempotency_error" {
		s.Logger.WarnContext(r.Context(), "checkout: provider key reused with other parameters", "order_id", id, "error", e.Error())
		if !s.settle(r.Context(), w, o, orders.Failed, "") {
			return
		}
		problem.Write(w, problem.New(http.StatusUnprocessableEntity, problem.KeyMismatch,
			"this Idempotency-Key was used with a different request; use a new key for a new request"))
		return
	}
	s.Logger.ErrorContext(r.Context(), "checkout: payment rejected", "order_id", id, "status", e.StatusCode,
		"type", e.Type, "code", e.Code, "param", e.Param, "request_id", e.RequestID, "error", e.Message)
	s.release(r.Context(), o)
	problem.Write(w, problem.New(http.StatusBadGateway, problem.ProviderError, "the payment provider refused the request"))
}

// buyerFields maps the provider's parameter names to the request fields they come from.
var buyerFields = map[string]string{
	"payment_method": "payment_method",
	"amount":         "amount",
	"currency":       "currency",
	"receipt_email":  "customer_email",
}

func methodNotAllowed(allow ...string) http.HandlerFunc {
	allowed := ""
	for i, m := range allow {
		if i > 0 {
			allowed += ", "
		}
		allowed += m
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allowed)
		problem.Write(w, problem.New(http.StatusMethodNotAllowed, problem.MethodNotAllowed,
			fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allowed)))
	}
}

// Response is the body of 201 (a new checkout) and of 200 (a key reused after its record
// expired): the order, and the client secret the page needs when the buyer must still act.
type Response struct {
	OrderID         string        `json:"order_id"`
	Status          orders.Status `json:"status"`
	Lines           []orders.Line `json:"lines,omitempty"`
	Amount          int64         `json:"amount"`
	Currency        string        `json:"currency"`
	PaymentIntentID string        `json:"payment_intent_id"`
	ClientSecret    string        `json:"client_secret,omitempty"`
}

func view(o orders.Order) Response {
	return Response{OrderID: o.ID, Status: o.Status, Lines: o.Lines, Amount: o.Amount, Currency: o.Currency, PaymentIntentID: o.PaymentIntentID}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // our own types: cannot happen
		problem.Write(w, problem.New(http.StatusInternalServerError, problem.Internal, "internal error"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// OrderID returns the id of the order a scoped idempotency key creates: "ord_" and the key's
// first 24 hex characters. Being a function of the key, a second order for the key cannot exist.
func OrderID(scopedKey string) string {
	if len(scopedKey) > orderIDChars {
		scopedKey = scopedKey[:orderIDChars]
	}
	return orderPrefix + scopedKey
}

func validOrderID(id string) bool {
	if len(id) != len(orderPrefix)+orderIDChars || id[:len(orderPrefix)] != orderPrefix {
		return false
	}
	for _, c := range id[len(orderPrefix):] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
