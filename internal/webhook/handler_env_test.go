package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/testenv"
	"github.com/checkout-idem/checkout/internal/webhook"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// t0 starts the fake clock at the real time: DynamoDB Local, like DynamoDB, deletes items whose
// TTL attribute lies in the real past, whatever the clock of the test says.
var t0 = time.Now().UTC().Truncate(time.Second)

// spyOrders counts the Apply calls that changed an order and fails the first `fail` calls.
type spyOrders struct {
	orders.Store
	fail    atomic.Int32
	changed atomic.Int32
}

var errInjected = errors.New("injected store failure")

func (s *spyOrders) Apply(ctx context.Context, id string, c orders.Change) (orders.Applied, error) {
	if s.fail.Add(-1) >= 0 {
		return orders.Applied{}, errInjected
	}
	a, err := s.Store.Apply(ctx, id, c)
	if a.Changed {
		s.changed.Add(1)
	}
	return a, err
}

// env is a webhook handler over memory stores or fresh DynamoDB Local tables.
type env struct {
	h              http.Handler
	keys           idem.Store
	mem            *testenv.Keys // nil on DynamoDB
	orders         *spyOrders
	clock          *testenv.Clock
	logs           *testenv.LogBuffer
	stripeSecret   string
	standardSecret string
}

type option func(*webhook.Options)

var stores = []string{"memory", "dynamodb"}

func newEnv(t testing.TB, store string, opts ...option) *env {
	t.Helper()
	e := &env{clock: testenv.NewClock(t0), logs: &testenv.LogBuffer{}, stripeSecret: webhook.NewSecret(), standardSecret: webhook.NewSecret()}
	var base orders.Store
	switch store {
	case "memory":
		e.mem = testenv.NewKeys(nil)
		e.keys, base = e.mem, orders.NewMemoryStore()
	case "dynamodb":
		c := testenv.DynamoClient(t)
		e.keys = idem.NewDynamoStore(c, testenv.Table(t, c, idem.Table("webhook-idem")))
		base = orders.NewDynamoStore(c, testenv.Table(t, c, orders.Table("webhook-orders")))
	default:
		t.Fatalf("unknown store %q", store)
	}
	e.orders = &spyOrders{Store: base}
	sv, err := webhook.NewStripeVerifier([]string{e.stripeSecret}, 0)
	if err != nil {
		t.Fatal(err)
	}
	stv, err := webhook.NewStandardVerifier([]string{e.standardSecret}, 0)
	if err != nil {
		t.Fatal(err)
	}
	o := webhook.Options{Stripe: sv, Standard: stv, Orders: e.orders, Idem: e.keys, Now: e.clock.Now,
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil))}
	for _, f := range opts {
		f(&o)
	}
	e.h = webhook.NewHandler(o)
	return e
}

// createOrder stores an order as the checkout's claim writes it: created, 4200 eur, no intent.
func (e *env) createOrder(t testing.TB, id string) {
	t.Helper()
	err := e.orders.Create(t.Context(), orders.Order{ID: id, Amount: 4200, Currency: "eur", Status: orders.Created,
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) status(t testing.TB, id string) orders.Status {
	t.Helper()
	o, err := e.orders.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return o.Status
}

// stored reports whether a delivery id has an idempotency record in scope.
func (e *env) stored(t testing.TB, scope, id string) bool {
	t.Helper()
	rec, err := e.keys.Get(t.Context(), idem.ScopedKey(scope, "", id), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return rec != nil
}

// intentOf is the payment intent of order id in events built by event.
func intentOf(orderID string) string { return "pi_of_" + orderID }

// event returns a Stripe event body about order orderID's payment intent (intentOf), 4200 eur,
// created at created; a charge.refunded refunds it in full.
func event(id, typ, orderID string, created time.Time) []byte {
	return eventFor(id, typ, orderID, intentOf(orderID), 4200, created)
}

// eventFor returns a Stripe event body about intent pi of order orderID; for charge.refunded,
// refunded is the charge's amount_refunded (refunded: true when it is the whole 4200).
func eventFor(id, typ, orderID, pi string, refunded int64, created time.Time) []byte {
	obj := map[string]any{"id": pi, "object": "payment_intent", "status": "succeeded",
		"amount": 4200, "currency": "eur", "metadata": map[string]string{"order_id": orderID}}
	if typ == "charge.refunded" {
		obj = map[string]any{"id": "ch_" + id, "object": "charge", "payment_intent": pi, "amount": 4200,
			"currency": "eur", "amount_refunded": refunded, "refunded": refunded == 4200,
			"metadata": map[string]string{"order_id": orderID}}
	}
	if orderID == "" {
		delete(obj, "metadata")
	}
	b, err := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "created": created.Unix(),
		"livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": obj}})
	if err != nil {
		panic(err)
	}
	return b
}

// stripe returns a delivery of body signed with the env's Stripe secret at ts.
func (e *env) stripe(body []byte, ts time.Time) *http.Request {
	r := httptest.NewRequest(http.MethodPost, webhook.Path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(webhook.StripeSignatureHeader, webhook.SignStripe(e.stripeSecret, ts, body))
	return r
}

// standard returns a Standard Webhooks delivery of body with id, signed at ts.
func (e *env) standard(t testing.TB, id string, body []byte, ts time.Time) *http.Request {
	t.Helper()
	h, err := webhook.SignStandard(e.standardSecret, id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, webhook.Path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		r.Header[k] = v
	}
	return r
}

func (e *env) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func result(t testing.TB, w *httptest.ResponseRecorder) webhook.Result {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("got %d %s, want 200", w.Code, w.Body)
	}
	var res webhook.Result
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || !res.Received {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	return res
}

func replayed(w *httptest.ResponseRecorder) bool {
	return w.Header().Get(idem.ReplayedHeader) == "true"
}
