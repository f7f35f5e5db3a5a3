package checkout_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/stock"
	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// t0 starts the fake clock at the real time: DynamoDB Local, like DynamoDB, deletes items whose
// TTL attribute lies in the real past, whatever the clock of the test says.
var t0 = time.Now().UTC().Truncate(time.Second)

// env is a checkout handler over memory stores (unless replaced) and a Local provider. Its
// catalog is the sample (catalog.Sample), read through a 5 s cache on the env's clock.
type env struct {
	h       http.Handler
	keys    idem.Store
	orders  orders.Store
	catalog catalog.Store   // the store under the cache: what is for sale and the units left
	prices  checkout.Pricer // what the handler prices with
	pay     payment.Provider
	local   *payment.Local
	clock   *testenv.Clock
	logs    *testenv.LogBuffer
}

type option func(*checkout.Options)

func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	units := stock.NewMemory()
	mem := catalog.NewMemoryStore(units)
	loadSample(t, mem)
	e := &env{keys: testenv.NewKeys(nil), orders: testenv.NewOrders(orders.NewMemoryStore().WithStock(units)), catalog: mem,
		local: payment.NewLocal(), clock: testenv.NewClock(t0), logs: &testenv.LogBuffer{}}
	o := checkout.Options{Catalog: mem, Orders: e.orders, Payments: e.local, Idem: e.keys, TTL: time.Hour,
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), Now: e.clock.Now}
	for _, f := range opts {
		f(&o)
	}
	if s, ok := o.Catalog.(catalog.Store); ok { // the store itself: read it through a cache, as the app does
		e.catalog = s
		now := o.Now
		if now == nil {
			now = time.Now
		}
		o.Catalog = catalog.NewCache(s, 5*time.Second, now)
	}
	e.prices = o.Catalog
	e.keys, e.orders, e.pay = o.Idem, o.Orders, o.Payments
	e.h = checkout.New(o)
	return e
}

// loadSample loads the sample catalog into store.
func loadSample(t testing.TB, store catalog.Loader) {
	t.Helper()
	if _, err := catalog.Load(context.Background(), store, catalog.Sample()); err != nil {
		t.Fatalf("load the sample catalog: %v", err)
	}
}

// available returns the units of sku left in stock.
func (e *env) available(t testing.TB, sku string) int {
	t.Helper()
	l, err := e.catalog.Get(t.Context(), sku)
	if err != nil {
		t.Fatalf("catalog %s: %v", sku, err)
	}
	return l.Available
}

func (e *env) do(method, path, key, body string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if key != "" {
		r.Header.Set(idem.KeyHeader, key)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func (e *env) post(key, body string) *httptest.ResponseRecorder {
	return e.do(http.MethodPost, "/checkout", key, body)
}

func (e *env) countOrders(t testing.TB) int {
	t.Helper()
	c, ok := e.orders.(interface {
		Count(context.Context) (int, error)
	})
	if !ok {
		t.Fatalf("orders %T cannot count (wrap the store in testenv.NewOrders)", e.orders)
	}
	n, err := c.Count(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// scoped is the scoped key of a client key for an anonymous caller.
func scoped(key string) string { return idem.ScopedKey(checkout.Scope, "", key) }

// validBody buys one tee-black-m (2500 usd in the sample catalog) by card, showing its total.
const validBody = `{"items":[{"sku":"tee-black-m","quantity":1}],"amount":2500,"currency":"usd","payment_method":"pm_card_visa","customer_email":"buyer@example.com"}`

// cartBody is a body of items (a JSON array) in usd, with the rest of validBody's fields.
func cartBody(items string) string {
	return `{"items":` + items + `,"currency":"usd","payment_method":"pm_card_visa","customer_email":"buyer@example.com"}`
}

func decode(t testing.TB, w *httptest.ResponseRecorder) checkout.Response {
	t.Helper()
	var res checkout.Response
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	return res
}

// orderStatus returns the status of the order of an anonymous caller's key.
func (e *env) orderStatus(t testing.TB, key string) orders.Status {
	t.Helper()
	o, err := e.orders.Get(t.Context(), checkout.OrderID(scoped(key)))
	if err != nil {
		t.Fatalf("order of %s: %v", key, err)
	}
	return o.Status
}
