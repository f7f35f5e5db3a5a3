package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/inject"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/reconcile"
	"github.com/checkout-idem/checkout/internal/testenv"
	"github.com/checkout-idem/checkout/internal/webhook"
)

// The fault matrix. Every external call of a checkout, a replay, an order read, a webhook
// delivery and a reconciler run goes through one injection point: inject.Faults on the DynamoDB
// client, and faulty (below) around the payment provider. A fault-free run of each subject
// records its calls; then each call in turn gets each fault (before, lost, hang, kill), each
// followed by each recovery, and every run ends the same way: a day passes (past the records'
// TTL and the reconciler's windows), the reconciler runs, and the buyer retries until answered.
// The invariants are checked over the whole history of each run.

// matrixLease is the deadline of every invocation: the claim's lease.
const matrixLease = time.Minute

// matrixFaults are the faults swept at each call.
var matrixFaults = []inject.Fault{inject.Before, inject.Lost, inject.Hang, inject.Kill}

// invocation is one process's piece of work, carried in its context: its own fault policy, the
// calls it made, and whether it is dead (killed: its later calls fail unsent, its answer is lost).
type invocation struct {
	policy func(n int, op string) inject.Fault // n counts the invocation's calls from 1
	clock  *driftClock                         // its run's
	cancel context.CancelFunc
	mu     sync.Mutex
	calls  []string
	dead   atomic.Bool
}

type invocationKey struct{}

// injector keeps a run's clock and the PaymentIntents its provider created.
type injector struct {
	clock   *driftClock
	mu      sync.Mutex
	intents []string // every PaymentIntent the provider created, answered or not
}

// matrixFaultsOn is the one place every external call asks what happens to it: the fault its
// invocation's policy names (none outside an invocation, Before once it is dead).
var matrixFaultsOn = &inject.Faults{Decide: decide, Hold: hold}

func decide(ctx context.Context, op string) inject.Fault {
	inv, _ := ctx.Value(invocationKey{}).(*invocation)
	if inv == nil {
		return inject.Pass
	}
	if inv.dead.Load() {
		return inject.Before
	}
	inv.mu.Lock()
	inv.calls = append(inv.calls, op)
	n := len(inv.calls)
	inv.mu.Unlock()
	f := inject.Pass
	if inv.policy != nil {
		f = inv.policy(n, op)
	}
	if f == inject.Kill {
		inv.dead.Store(true)
	}
	return f
}

// hold is a hang: the invocation's deadline passes (its lease with it) and its context ends.
func hold(ctx context.Context) {
	if inv, _ := ctx.Value(invocationKey{}).(*invocation); inv != nil {
		inv.clock.Add(2 * matrixLease)
		inv.cancel()
	}
}

func (in *injector) noteIntent(id string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !slices.Contains(in.intents, id) {
		in.intents = append(in.intents, id)
	}
}

func (in *injector) intentIDs() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.intents...)
}

// faulty is the payment provider behind the injection point; an injected fault reaches the
// caller as the provider being unreachable, as a dropped connection does.
type faulty struct {
	local *payment.Local
	in    *injector
}

func faultyCall[T any](ctx context.Context, p faulty, op string, send func() (T, error)) (T, error) {
	var out T
	err := decide(ctx, op).Do(ctx, hold, func() error {
		var err error
		out, err = send()
		return err
	})
	if errors.Is(err, inject.ErrInjected) {
		var zero T
		return zero, fmt.Errorf("%w: %w", payment.ErrUnavailable, err)
	}
	return out, err
}

func (p faulty) CreatePayment(ctx context.Context, req payment.Request) (payment.Intent, error) {
	return faultyCall(ctx, p, "CreatePayment", func() (payment.Intent, error) {
		in, err := p.local.CreatePayment(ctx, req)
		var declined *payment.DeclinedError
		if in.ID != "" {
			p.in.noteIntent(in.ID)
		} else if errors.As(err, &declined) && declined.IntentID != "" {
			p.in.noteIntent(declined.IntentID)
		}
		return in, err
	})
}

func (p faulty) Retrieve(ctx context.Context, id string) (payment.Intent, error) {
	return faultyCall(ctx, p, "Retrieve", func() (payment.Intent, error) { return p.local.Retrieve(ctx, id) })
}

func (p faulty) FindByOrder(ctx context.Context, orderID string) (*payment.Intent, error) {
	return faultyCall(ctx, p, "FindByOrder", func() (*payment.Intent, error) { return p.local.FindByOrder(ctx, orderID) })
}

func (p faulty) Cancel(ctx context.Context, id, key string) (payment.Intent, error) {
	return faultyCall(ctx, p, "Cancel", func() (payment.Intent, error) { return p.local.Cancel(ctx, id, key) })
}

func (p faulty) Refund(ctx context.Context, id string, amount int64, key string) (string, error) {
	return faultyCall(ctx, p, "Refund", func() (string, error) { return p.local.Refund(ctx, id, amount, key) })
}

// driftClock is wall time plus the jumps a test makes, so waits that poll the clock still end.
type driftClock struct{ offset atomic.Int64 }

func (c *driftClock) Now() time.Time      { return time.Now().Add(time.Duration(c.offset.Load())).UTC() }
func (c *driftClock) Add(d time.Duration) { c.offset.Add(int64(d)) }

// subject is what a row of the matrix faults, after a fault-free history (setup).
type subject struct {
	name   string
	method string                                             // the buyer's payment method
	setup  func(r *run)                                       // before the subject, its own invocations
	act    func(r *run, ctx context.Context, inv *invocation) // the faulted work, in ctx
	base   func(n int, op string) inject.Fault                // the subject's standing faults, under the swept one
	stores []string                                           // where it runs
	sold   int                                                // units its setup sells to another buyer
	// redelivered: only its webhook can settle it, so its end includes the provider's
	// redelivery of the event (Stripe retries an unanswered or failed delivery for 3 days).
	redelivered bool
	// onThePage: the buyer's last word is on the provider's page (3-D Secure), so its end has no
	// retry of the key a day later, which would take the order up again and hide what was lost.
	onThePage bool
}

// matrixLoaded is the stock of the product the runs buy.
const matrixLoaded = 10

// matrixQuantity is how many units the buyer's cart takes.
const matrixQuantity = 2

// run is one cell of the matrix: fresh stores, one buyer, one key.
type run struct {
	t        testing.TB
	label    string
	sub      subject
	in       *injector
	local    *payment.Local
	provider faulty
	keys     idem.Store
	orders   orders.Store
	catalog  catalog.Store
	secret   string
	key      string
	sku      string
	event    string // the id of the provider's event for the run's charge
	id       string
	mu       sync.Mutex
	answers  []answer // the buyer's, in order
	events   map[string][]byte
	problems []string // invariant violations
}

// answer is what one of the buyer's sends received.
type answer struct {
	code   int
	typ    string
	status orders.Status // of the order it carries ("" when none)
	order  string
}

func (r *run) violate(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, r.label+": "+fmt.Sprintf(format, args...))
}

var runSeq atomic.Int64

// newRun starts a run on s: its own product (matrixLoaded units in 2 shards), key and order.
// On DynamoDB Local runs share one set of tables per worker (the reconciler only looks at open
// orders, and every run ends with none); on memory each run gets fresh stores (cheap).
func newRun(t testing.TB, s stores, sub subject, label string) *run {
	in := &injector{clock: &driftClock{}}
	n := runSeq.Add(1)
	r := &run{t: t, label: label, sub: sub, in: in, local: payment.NewLocal(), secret: webhook.NewSecret(),
		key: fmt.Sprintf("matrix-key-%d", n), sku: fmt.Sprintf("tee-%d", n), event: fmt.Sprintf("evt_matrix_%d", n),
		keys: s.keys, orders: s.orders, catalog: s.catalog}
	r.provider = faulty{local: r.local, in: in}
	r.id = checkout.OrderID(idem.ScopedKey(checkout.Scope, "", r.key))
	tee := catalog.Product{SKU: r.sku, Name: "Tee", Prices: map[string]int64{"usd": teePrice}, Active: true, Stock: matrixLoaded, Shards: 2}
	if _, err := catalog.Load(context.Background(), r.catalog.(catalog.Loader), []catalog.Product{tee}); err != nil {
		r.violate("load the catalog: %v", err) // workers report, never t.Fatal off the test goroutine
	}
	return r
}

// invoke returns the context of a new invocation with policy (nil: no faults).
func (r *run) invoke(policy func(n int, op string) inject.Fault) (context.Context, *invocation, context.CancelFunc) {
	inv := &invocation{policy: policy, clock: r.in.clock}
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), invocationKey{}, inv), matrixLease)
	inv.cancel = cancel
	return ctx, inv, cancel
}

// handler is a fresh container's checkout: nothing cached.
func (r *run) handler() http.Handler {
	return checkout.New(checkout.Options{Catalog: r.catalog, Orders: r.orders, Payments: r.provider, Idem: r.keys,
		Logger: quiet, Now: r.in.clock.Now, Wait: time.Millisecond})
}

func (r *run) body() string {
	method := `,"payment_method":"pm_card_visa"`
	switch r.sub.method {
	case "":
	case "none": // the buyer confirms later, with the client secret
		method = ""
	default:
		method = `,"payment_method":"` + r.sub.method + `"`
	}
	return `{"items":[{"sku":"` + r.sku + `","quantity":` + strconv.Itoa(matrixQuantity) + `}],"amount":` +
		strconv.Itoa(teePrice*matrixQuantity) + `,"currency":"usd"` + method + `}`
}

// buy sends the buyer's checkout in invocation ctx and notes its answer unless inv died.
func (r *run) buy(ctx context.Context, inv *invocation) answer {
	w := post(ctx, r.handler(), r.key, r.body())
	a := r.read(w)
	if inv == nil || !inv.dead.Load() {
		r.mu.Lock()
		r.answers = append(r.answers, a)
		r.mu.Unlock()
	}
	return a
}

// retry is the buyer retrying once, as a new invocation.
func (r *run) retry() answer {
	ctx, inv, cancel := r.invoke(nil)
	defer cancel()
	return r.buy(ctx, inv)
}

func (r *run) read(w *httptest.ResponseRecorder) answer {
	a := answer{code: w.Code}
	if w.Code == http.StatusInternalServerError {
		r.violate("a 500 was answered: %s", w.Body)
	}
	if w.Code < 300 {
		var res checkout.Response
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
			r.violate("answer %d %q: %v", w.Code, w.Body, err)
		}
		a.status, a.order = res.Status, res.OrderID
		return a
	}
	var p problem.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		r.violate("answer %d %q is not a problem: %v", w.Code, w.Body, err)
	}
	a.typ, a.order = p.Type, p.OrderID
	if w.Code == http.StatusPaymentRequired {
		a.status = orders.Failed
	}
	return a
}

// deliver sends the provider's payment_intent.succeeded of the run's first intent, if any.
func (r *run) deliver(ctx context.Context, eventID string) {
	ids := r.in.intentIDs()
	if len(ids) == 0 {
		return
	}
	in, err := r.local.Retrieve(context.Background(), ids[0])
	if err != nil || in.Outcome != payment.Succeeded {
		return // a declined or canceled intent sends no success
	}
	verifier, err := webhook.NewStripeVerifier([]string{r.secret}, 0)
	if err != nil {
		r.violate("webhook verifier: %v", err)
		return
	}
	h := webhook.NewHandler(webhook.Options{Stripe: verifier, Orders: r.orders, Idem: r.keys, Logger: quiet,
		Now: r.in.clock.Now, Wait: time.Millisecond})
	r.mu.Lock()
	if r.events == nil {
		r.events = map[string][]byte{} // a redelivery is the same event, newly signed
	}
	ev, ok := r.events[eventID]
	if !ok {
		ev = stripeEvent(eventID, in.ID, r.id, int(in.Amount), in.Currency, r.in.clock.Now())
		r.events[eventID] = ev
	}
	r.mu.Unlock()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, webhook.Path, bytes.NewReader(ev))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.StripeSignatureHeader, webhook.SignStripe(r.secret, r.in.clock.Now(), ev))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK && w.Code != http.StatusServiceUnavailable && w.Code != http.StatusInternalServerError && w.Code != http.StatusConflict {
		r.violate("webhook answered %d %s", w.Code, w.Body)
	}
}

// reconcile runs the reconciler at now + d.
func (r *run) reconcile(ctx context.Context, d time.Duration) {
	rc := reconcile.New(reconcile.Options{Orders: r.orders, Payments: r.provider, Logger: quiet})
	_, _ = rc.Run(ctx, r.in.clock.Now().Add(d)) // a faulted run reports its error; the invariants judge it
}

// reconcileLater moves the clock past the reconciler's window and runs it.
func (r *run) reconcileLater() {
	r.in.clock.Add(reconcile.DefaultAfter + time.Minute)
	ctx, _, cancel := r.invoke(nil)
	defer cancel()
	r.reconcile(ctx, 0)
}

// recoveries are what may follow a fault.
var recoveries = []struct {
	name string
	do   func(r *run)
}{
	{"the buyer retries once", func(r *run) { r.retry() }},
	{"the buyer retries 5 times in a row", func(r *run) {
		for range 5 {
			r.retry()
		}
	}},
	{"the buyer retries 5 times at once", func(r *run) {
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() { r.retry() })
		}
		wg.Wait()
	}},
	{"the webhook, then a retry", func(r *run) {
		ctx, _, cancel := r.invoke(nil)
		defer cancel()
		r.deliver(ctx, r.event)
		r.retry()
	}},
	{"a retry, then the webhook twice", func(r *run) {
		r.retry()
		ctx, _, cancel := r.invoke(nil)
		defer cancel()
		r.deliver(ctx, r.event)
		r.deliver(ctx, r.event)
	}},
	{"the reconciler, then a retry", func(r *run) { r.reconcileLater(); r.retry() }},
	{"nothing", func(*run) {}},
}

// finish is every run's end: a day passes, the reconciler runs, and the buyer retries until
// answered (at most 4 times, each after the Retry-After it was given).
func (r *run) finish() {
	r.in.clock.Add(idem.DefaultTTL + time.Hour)
	if r.sub.redelivered {
		ctx, _, cancel := r.invoke(nil)
		r.deliver(ctx, r.event)
		cancel()
	}
	r.reconcileLater()
	for range 4 {
		if r.sub.onThePage {
			break
		}
		a := r.retry()
		if a.code < 300 || a.code == http.StatusPaymentRequired {
			break
		}
		r.in.clock.Add(matrixLease)
	}
	r.reconcileLater()
}

// check holds the invariants over the run's history.
func (r *run) check() {
	ctx := context.Background()
	// Answers: one order id; a status that only moves forward; a final answer.
	last := -1
	for i, a := range r.answers {
		if a.order != "" && a.order != r.id {
			r.violate("answer %d names order %s, want %s", i, a.order, r.id)
		}
		if a.status == "" {
			continue
		}
		if rank := a.status.Rank(); rank < last {
			r.violate("answer %d went back to %s: %+v", i, a.status, r.answers)
		} else {
			last = rank
		}
	}
	if n := len(r.answers); n == 0 || r.answers[n-1].status == "" {
		r.violate("the buyer's last retry got no order: %+v", r.answers)
	}

	// Money: at most one charge kept per key; a kept charge has its paid order and vice versa.
	o, err := r.orders.Get(ctx, r.id)
	hasOrder := err == nil
	if err != nil && !errors.Is(err, orders.ErrNotFound) {
		r.violate("read the order: %v", err)
		return
	}
	kept := 0
	var keptID string
	for _, id := range r.in.intentIDs() {
		in, err := r.local.Retrieve(ctx, id)
		if err != nil {
			r.violate("retrieve %s: %v", id, err)
			continue
		}
		if in.OrderID != r.id || !hasOrder {
			r.violate("charge %s has no order (%s)", id, in.OrderID)
		}
		if in.Outcome == payment.Succeeded {
			kept++
			keptID = id
		}
	}
	refunds := r.local.Refunds()
	switch {
	case kept > 1:
		r.violate("%d charges succeeded for one key", kept)
	case refunds > kept:
		r.violate("%d refunds of %d kept charges", refunds, kept)
	case hasOrder && o.Status == orders.Refunded && refunds != 1:
		r.violate("order refunded with %d refunds", refunds)
	case kept-refunds == 1 && (!hasOrder || o.Status != orders.Paid || o.PaymentIntentID != keptID):
		r.violate("charge %s kept, but the order is %+v", keptID, o)
	case hasOrder && o.Status == orders.Paid && (kept != 1 || refunds != 0):
		r.violate("order paid with %d charges and %d refunds", kept, refunds)
	}
	// Nothing open past the reconciler's window.
	if hasOrder && o.Status.Open() {
		r.violate("order still %s after the reconciler", o.Status)
	}
	// Stock: left + held = loaded (sold units are the held units of paid orders).
	l, err := r.catalog.Get(ctx, r.sku)
	if err != nil {
		r.violate("read the stock: %v", err)
		return
	}
	held := 0
	if hasOrder && o.Units == orders.Held {
		held = matrixQuantity
	}
	if l.Available+held != matrixLoaded-r.sub.sold {
		r.violate("stock: %d left + %d held, want %d loaded - %d sold to another buyer (order %s, units %q)",
			l.Available, held, matrixLoaded, r.sub.sold, o.Status, o.Units)
	}
	if hasOrder && o.Status == orders.Paid && o.Units != orders.Held {
		r.violate("order paid without its units (%q)", o.Units)
	}
}

// killAt kills the invocation right after its first call named op.
func killAt(op string) func(int, string) inject.Fault {
	var done atomic.Bool
	return func(_ int, got string) inject.Fault {
		if got == op && done.CompareAndSwap(false, true) {
			return inject.Kill
		}
		return inject.Pass
	}
}

// buyKilledAt runs the buyer's checkout killed right after its first call named op ("": not
// killed), then lets its lease run out.
func buyKilledAt(op string) func(r *run) {
	return func(r *run) {
		var policy func(int, string) inject.Fault
		if op != "" {
			policy = killAt(op)
		}
		ctx, inv, cancel := r.invoke(policy)
		defer cancel()
		r.buy(ctx, inv)
		r.in.clock.Add(2 * matrixLease)
	}
}

// abandonUnseenAndSell is buyKilledAt("CreatePayment"), then a reconciler that did not see the
// charge (Stripe's search is eventually consistent) abandons the order, and another buyer,
// paying elsewhere, buys every unit it released: the charge's success now finds no stock.
func abandonUnseenAndSell(r *run) {
	buyKilledAt("CreatePayment")(r)
	ctx := context.Background()
	o, err := r.orders.Get(ctx, r.id)
	if err == nil {
		_, err = r.orders.Apply(ctx, r.id, orders.Change{To: orders.Abandoned, Amount: o.Amount, Currency: o.Currency, Now: r.in.clock.Now()})
	}
	other := checkout.New(checkout.Options{Catalog: r.catalog, Orders: r.orders, Payments: payment.NewLocal(), Idem: r.keys,
		Logger: quiet, Now: r.in.clock.Now, Wait: time.Millisecond})
	body := `{"items":[{"sku":"` + r.sku + `","quantity":` + strconv.Itoa(matrixLoaded) + `}],"amount":` +
		strconv.Itoa(teePrice*matrixLoaded) + `,"currency":"usd","payment_method":"pm_card_visa"}`
	if w := post(ctx, other, r.key+"-other", body); err != nil || w.Code != http.StatusCreated {
		r.violate("set-up: abandon (%v), then sell the units: %d %s", err, w.Code, w.Body)
	}
}

var subjects = []subject{
	{name: "checkout", stores: []string{"dynamodb", "memory"},
		act: func(r *run, ctx context.Context, inv *invocation) { r.buy(ctx, inv) }},
	{name: "checkout, the provider down", stores: []string{"dynamodb", "memory"},
		base: func(_ int, op string) inject.Fault {
			if op == "CreatePayment" {
				return inject.Before
			}
			return inject.Pass
		},
		act: func(r *run, ctx context.Context, inv *invocation) { r.buy(ctx, inv) }},
	{name: "declined checkout", method: "pm_card_chargeDeclined", stores: []string{"dynamodb", "memory"},
		act: func(r *run, ctx context.Context, inv *invocation) { r.buy(ctx, inv) }},
	{name: "replay", stores: []string{"dynamodb"}, setup: buyKilledAt(""),
		act: func(r *run, ctx context.Context, inv *invocation) { r.buy(ctx, inv) }},
	{name: "order read", stores: []string{"dynamodb"}, setup: buyKilledAt(""),
		act: func(r *run, ctx context.Context, inv *invocation) {
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/orders/"+r.id, nil)
			w := httptest.NewRecorder()
			r.handler().ServeHTTP(w, req)
			if w.Code == http.StatusInternalServerError || (w.Code < 300 && !strings.Contains(w.Body.String(), r.id)) {
				r.violate("GET /orders answered %d %s", w.Code, w.Body)
			}
		}},
	{name: "webhook of a killed checkout's charge", stores: []string{"dynamodb"}, setup: buyKilledAt("CreatePayment"),
		act: func(r *run, ctx context.Context, inv *invocation) { r.deliver(ctx, r.event) }},
	{name: "reconciler settling a killed checkout's charge", stores: []string{"dynamodb", "memory"},
		setup: buyKilledAt("CreatePayment"),
		act: func(r *run, ctx context.Context, inv *invocation) {
			r.in.clock.Add(reconcile.DefaultAfter + time.Minute)
			r.reconcile(ctx, 0)
		}},
	{name: "reconciler abandoning a payment the buyer never confirmed", method: "none", stores: []string{"dynamodb", "memory"},
		setup: buyKilledAt(""),
		act: func(r *run, ctx context.Context, inv *invocation) {
			r.in.clock.Add(reconcile.DefaultAbandonAfter + time.Hour)
			r.reconcile(ctx, 0)
		}},
	{name: "reconciler abandoning a checkout whose buyer never authenticated", method: "pm_card_authenticationRequired",
		stores: []string{"dynamodb", "memory"}, setup: buyKilledAt(""), onThePage: true,
		act: func(r *run, ctx context.Context, inv *invocation) {
			r.in.clock.Add(reconcile.DefaultActionTimeout + time.Minute)
			r.reconcile(ctx, 0)
			// The buyer comes back and finishes 3-D Secure: an intent the reconciler canceled
			// refuses it; one it did not reach succeeds, and must end paid with its units.
			for _, id := range r.in.intentIDs() {
				r.local.Authenticate(id)
			}
		}},
	{name: "webhook of a charge made after its units were sold", stores: []string{"dynamodb", "memory"},
		setup: abandonUnseenAndSell, sold: matrixLoaded, redelivered: true,
		act: func(r *run, ctx context.Context, inv *invocation) { r.deliver(ctx, r.event) }},
	{name: "reconciler refunding a charge made after its units were sold", stores: []string{"dynamodb", "memory"},
		setup: func(r *run) {
			abandonUnseenAndSell(r)
			ctx, _, cancel := r.invoke(nil)
			defer cancel()
			r.deliver(ctx, r.event) // paid, its units gone: the reconciler's to refund
		},
		sold: matrixLoaded,
		act: func(r *run, ctx context.Context, inv *invocation) {
			r.in.clock.Add(reconcile.DefaultAfter + time.Minute)
			r.reconcile(ctx, 0)
		}},
	{name: "reconciler abandoning a checkout killed before the charge", stores: []string{"dynamodb"},
		setup: buyKilledAt("TransactWriteItems"),
		act: func(r *run, ctx context.Context, inv *invocation) {
			r.in.clock.Add(reconcile.DefaultAfter + time.Minute)
			r.reconcile(ctx, 0)
		}},
}

// runSubject runs r's subject under policy and returns the calls it made.
func (r *run) runSubject(policy func(int, string) inject.Fault) []string {
	if r.sub.setup != nil {
		r.sub.setup(r)
	}
	full := func(n int, op string) inject.Fault {
		f := inject.Pass
		if r.sub.base != nil {
			f = r.sub.base(n, op)
		}
		if policy != nil {
			if g := policy(n, op); g != inject.Pass {
				f = g
			}
		}
		return f
	}
	ctx, inv, cancel := r.invoke(full)
	defer cancel()
	r.sub.act(r, ctx, inv)
	if inv.dead.Load() {
		r.in.clock.Add(2 * matrixLease) // the dead process's lease runs out
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return append([]string(nil), inv.calls...)
}

// TestFaultMatrix sweeps every call of every subject with every fault and every recovery.
func TestFaultMatrix(t *testing.T) {
	type cell struct {
		store, label string
		sub          subject
		point        int
		fault        inject.Fault
		recovery     int
	}
	var cells []cell
	points := map[string]int{}
	c := testenv.DynamoClient(t, matrixFaultsOn.Option())
	for _, store := range []string{"memory", "dynamodb"} {
		for _, sub := range subjects {
			if !slices.Contains(sub.stores, store) {
				continue
			}
			// The fault-free run names the subject's calls; it must itself pass the invariants.
			s := memoryStores()
			if store == "dynamodb" {
				s = dynamoStores(t, c)
			}
			r := newRun(t, s, sub, store+"/"+sub.name+"/no fault")
			calls := r.runSubject(nil)
			r.finish()
			r.check()
			for _, p := range r.problems {
				t.Error(p)
			}
			points[store] += len(calls)
			t.Logf("%s/%s: %d calls %v", store, sub.name, len(calls), calls)
			for i, op := range calls {
				for _, f := range matrixFaults {
					for k, rec := range recoveries {
						cells = append(cells, cell{store: store, sub: sub, point: i + 1, fault: f, recovery: k,
							label: fmt.Sprintf("%s/%s/call %d %s/%s/%s", store, sub.name, i+1, op, f, rec.name)})
					}
				}
			}
		}
	}

	client := c
	var mu sync.Mutex
	var violations []string
	work := make(chan cell)
	var wg sync.WaitGroup
	for range 4 {
		tables := dynamoStores(t, client) // on the test goroutine: it may t.Fatal
		wg.Go(func() {
			for c := range work {
				s := tables
				if c.store == "memory" {
					s = memoryStores()
				}
				r := newRun(t, s, c.sub, c.label)
				point, fault := c.point, c.fault
				r.runSubject(func(n int, _ string) inject.Fault {
					if n == point {
						return fault
					}
					return inject.Pass
				})
				recoveries[c.recovery].do(r)
				r.finish()
				r.check()
				mu.Lock()
				violations = append(violations, r.problems...)
				mu.Unlock()
			}
		})
	}
	for _, c := range cells {
		work <- c
	}
	close(work)
	wg.Wait()

	runs := map[string]int{}
	for _, c := range cells {
		runs[c.store]++
	}
	for _, store := range []string{"dynamodb", "memory"} {
		t.Logf("fault matrix on %s: %d calls x %d faults x %d recoveries = %d runs", store, points[store],
			len(matrixFaults), len(recoveries), runs[store])
	}
	fmt.Printf("fault matrix: %d runs (dynamodb %d, memory %d), %d violations\n", len(cells), runs["dynamodb"], runs["memory"], len(violations))
	for i, v := range violations {
		if i == 40 {
			t.Errorf("... and %d more", len(violations)-40)
			break
		}
		t.Error(v)
	}
}
