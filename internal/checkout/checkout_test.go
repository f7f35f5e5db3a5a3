package checkout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/stock"
	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestCheckout(t *testing.T) {
	t.Run("a card that pays answers 201 with a paid order and no client secret", func(t *testing.T) {
		e := newEnv(t)
		w := e.post("k1", validBody)
		if w.Code != http.StatusCreated || w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("got %d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		res := decode(t, w)
		want := checkout.OrderID(scoped("k1"))
		if res.OrderID != want || res.Status != orders.Paid || res.Amount != 2500 || res.Currency != "usd" ||
			!strings.HasPrefix(res.PaymentIntentID, "pi_") || res.ClientSecret != "" {
			t.Fatalf("response %+v, want paid order %s", res, want)
		}
		if strings.Contains(w.Body.String(), "client_secret") {
			t.Fatalf("a paid order carries a client secret: %s", w.Body)
		}
		if loc := w.Header().Get("Location"); loc != "/orders/"+want {
			t.Fatalf("Location %q", loc)
		}
		o, err := e.orders.Get(t.Context(), want)
		if !reflect.DeepEqual(res.Lines, teeLine) {
			t.Fatalf("response lines %+v, want %+v", res.Lines, teeLine)
		}
		if err != nil || o.Status != orders.Paid || o.PaymentIntentID != res.PaymentIntentID || !sameLines(o.Lines, teeLine) ||
			o.Amount != 2500 || o.CustomerEmail != "buyer@example.com" || !o.CreatedAt.Equal(t0) {
			t.Fatalf("stored order %+v, %v", o, err)
		}
		if n := e.available(t, "tee-black-m"); n != 99 {
			t.Fatalf("tee-black-m: %d units left, want 99", n)
		}
	})

	t.Run("no payment method answers a pending order with the client secret", func(t *testing.T) {
		e := newEnv(t)
		res := decode(t, e.post("k1", `{"items":[{"sku":"tee-black-m","quantity":1}],"currency":"eur"}`))
		if res.Status != orders.Pending || res.Amount != 2300 || res.Currency != "eur" || !strings.HasPrefix(res.ClientSecret, res.PaymentIntentID+"_secret_") {
			t.Fatalf("response %+v", res)
		}
	})

	t.Run("a card that needs 3-D Secure answers requires_action with the client secret", func(t *testing.T) {
		e := newEnv(t)
		res := decode(t, e.post("k1", `{"items":[{"sku":"mug-enamel","quantity":1}],"currency":"eur","payment_method":"pm_card_authenticationRequired"}`))
		if res.Status != orders.RequiresAction || res.ClientSecret == "" {
			t.Fatalf("response %+v", res)
		}
	})

	t.Run("a retry replays the same bytes and charges once", func(t *testing.T) {
		e := newEnv(t)
		first := e.post("k1", validBody)
		again := e.post("k1", validBody)
		if again.Code != http.StatusCreated || again.Body.String() != first.Body.String() ||
			again.Header().Get(idem.ReplayedHeader) != "true" || first.Header().Get(idem.ReplayedHeader) != "" ||
			again.Header().Get("Location") != first.Header().Get("Location") {
			t.Fatalf("first %d %s\nagain %d %s %v", first.Code, first.Body, again.Code, again.Body, again.Header())
		}
		if e.local.Created() != 1 || e.local.Calls() != 1 || e.countOrders(t) != 1 {
			t.Fatalf("intents %d, calls %d, orders %d", e.local.Created(), e.local.Calls(), e.countOrders(t))
		}
	})

	t.Run("the same key with another body answers 422 and charges nothing more", func(t *testing.T) {
		e := newEnv(t)
		e.post("k1", validBody)
		w := e.post("k1", strings.Replace(validBody, `"quantity":1`, `"quantity":2`, 1))
		testenv.AssertProblem(t, w, http.StatusUnprocessableEntity, problem.KeyMismatch)
		if e.local.Calls() != 1 || e.countOrders(t) != 1 {
			t.Fatalf("calls %d, orders %d", e.local.Calls(), e.countOrders(t))
		}
	})

	t.Run("keys are scoped by the caller", func(t *testing.T) {
		e := newEnv(t, func(o *checkout.Options) {
			o.Principal = func(r *http.Request) string { return r.Header.Get("X-Caller") }
		})
		var ids []string
		for _, caller := range []string{"alice", "bob"} {
			r := strings.NewReader(validBody)
			req, _ := http.NewRequest(http.MethodPost, "/checkout", r)
			req.Header.Set(idem.KeyHeader, "shared-key")
			req.Header.Set("X-Caller", caller)
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, req)
			ids = append(ids, decode(t, w).OrderID)
		}
		if ids[0] == ids[1] || e.countOrders(t) != 2 {
			t.Fatalf("order ids %v, orders %d", ids, e.countOrders(t))
		}
	})
}

func TestOrdersAndRouting(t *testing.T) {
	e := newEnv(t)
	created := decode(t, e.post("k1", validBody))

	t.Run("GET /orders/{id} answers the paid order, not cacheable", func(t *testing.T) {
		w := e.do(http.MethodGet, "/orders/"+created.OrderID, "", "")
		if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("got %d %v %s", w.Code, w.Header(), w.Body)
		}
		var o orders.Order
		if err := json.Unmarshal(w.Body.Bytes(), &o); err != nil {
			t.Fatal(err)
		}
		if o.ID != created.OrderID || o.Status != orders.Paid || o.PaymentIntentID != created.PaymentIntentID ||
			!reflect.DeepEqual(o.Lines, teeLine) || o.Amount != 2500 {
			t.Fatalf("order %+v", o)
		}
	})
	for _, tc := range []struct{ name, method, path string }{
		{"an unknown order answers 404", http.MethodGet, "/orders/ord_0123456789abcdef01234567"},
		{"a malformed order id answers 404", http.MethodGet, "/orders/42"},
		{"an order id in uppercase answers 404", http.MethodGet, "/orders/" + strings.ToUpper(created.OrderID)},
		{"an unknown path answers 404", http.MethodGet, "/nope"},
		{"a path below /checkout answers 404", http.MethodPost, "/checkout/extra"},
		{"GET /orders/ without an id answers 404", http.MethodGet, "/orders/"},
	} {
		t.Run(tc.name+" as a problem", func(t *testing.T) {
			testenv.AssertProblem(t, e.do(tc.method, tc.path, "", ""), http.StatusNotFound, problem.NotFound)
		})
	}
	for _, tc := range []struct{ name, method, path, allow string }{
		{"DELETE /checkout", http.MethodDelete, "/checkout", "POST"},
		{"GET /checkout", http.MethodGet, "/checkout", "POST"},
		{"POST /orders/{id}", http.MethodPost, "/orders/" + created.OrderID, "GET, HEAD"},
		{"PUT /orders/{id}", http.MethodPut, "/orders/x", "GET, HEAD"},
	} {
		t.Run(tc.name+" answers 405 with Allow "+tc.allow, func(t *testing.T) {
			w := e.do(tc.method, tc.path, "k1", "")
			testenv.AssertProblem(t, w, http.StatusMethodNotAllowed, problem.MethodNotAllowed)
			if got := w.Header().Get("Allow"); got != tc.allow {
				t.Fatalf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
}

func TestDecline(t *testing.T) {
	e := newEnv(t)
	body := `{"items":[{"sku":"mug-enamel","quantity":2},{"sku":"tee-black-m","quantity":3}],"amount":10300,"currency":"usd","payment_method":"pm_card_chargeDeclinedInsufficientFunds"}`
	first := e.post("k1", body)
	p := testenv.AssertProblem(t, first, http.StatusPaymentRequired, problem.PaymentDeclined)
	id := checkout.OrderID(scoped("k1"))
	if !strings.Contains(p.Detail, "insufficient_funds") || !strings.Contains(p.Detail, id) {
		t.Fatalf("detail %q", p.Detail)
	}
	// The decline put the units back: the whole stock of mug-enamel, 2, is for sale again.
	if mugs, tees := e.available(t, "mug-enamel"), e.available(t, "tee-black-m"); mugs != 2 || tees != 100 {
		t.Fatalf("after the decline: %d mug-enamel, %d tee-black-m left; want 2 and 100", mugs, tees)
	}
	again := e.post("k1", body)
	if again.Code != http.StatusPaymentRequired || again.Body.String() != first.Body.String() || again.Header().Get(idem.ReplayedHeader) != "true" {
		t.Fatalf("retry: %d %s", again.Code, again.Body)
	}
	if mugs := e.available(t, "mug-enamel"); mugs != 2 {
		t.Fatalf("after the replay: %d mug-enamel left, want 2", mugs)
	}
	o, err := e.orders.Get(t.Context(), id)
	if err != nil || o.Status != orders.Failed || !strings.HasPrefix(o.PaymentIntentID, "pi_") || o.Amount != 10300 || len(o.Lines) != 2 {
		t.Fatalf("order %+v, %v", o, err)
	}
	if e.local.Calls() != 1 || e.local.Created() != 1 {
		t.Fatalf("calls %d created %d", e.local.Calls(), e.local.Created())
	}
	w := e.do(http.MethodGet, "/orders/"+id, "", "")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"status":"failed"`) {
		t.Fatalf("GET: %d %s", w.Code, w.Body)
	}
}

func TestProviderUnavailable(t *testing.T) {
	e := newEnv(t)
	e.local.SetFault(func(_ payment.Request, attempt int) payment.Fault {
		return payment.Fault{Unavailable: attempt == 1}
	})
	w := e.post("k1", validBody)
	testenv.AssertProblem(t, w, http.StatusBadGateway, problem.ProviderError)
	if w.Header().Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q", w.Header().Get("Retry-After"))
	}
	// The order exists from the claim on, in state created: nothing charged, nothing stored.
	if e.countOrders(t) != 1 || e.orderStatus(t, "k1") != orders.Created || e.keys.(*testenv.Keys).Len() != 0 || e.local.Created() != 0 {
		t.Fatalf("after 502: orders %d, records %d, intents %d", e.countOrders(t), e.keys.(*testenv.Keys).Len(), e.local.Created())
	}
	if n := e.available(t, "tee-black-m"); n != 100 {
		t.Fatalf("after 502: %d tee-black-m left, want 100 (the units put back)", n)
	}
	w = e.post("k1", validBody)
	if w.Code != http.StatusCreated || w.Header().Get(idem.ReplayedHeader) != "" || decode(t, w).Status != orders.Paid {
		t.Fatalf("retry after recovery: %d %s", w.Code, w.Body)
	}
	if e.countOrders(t) != 1 || e.local.Created() != 1 {
		t.Fatalf("orders %d, intents %d", e.countOrders(t), e.local.Created())
	}
	if n := e.available(t, "tee-black-m"); n != 99 {
		t.Fatalf("after the retry: %d tee-black-m left, want 99", n)
	}
}

func TestLostProviderAnswer(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var keys []string
	e.local.SetFault(func(req payment.Request, attempt int) payment.Fault {
		mu.Lock()
		keys = append(keys, req.IdempotencyKey)
		mu.Unlock()
		return payment.Fault{LoseResponse: attempt == 1} // charged, then the answer is lost
	})
	testenv.AssertProblem(t, e.post("k1", validBody), http.StatusBadGateway, problem.ProviderError)
	// Money moved, and an order (created) points at it: the retry, a webhook or the reconciler settles it.
	if e.local.Created() != 1 || e.countOrders(t) != 1 || e.orderStatus(t, "k1") != orders.Created {
		t.Fatalf("after the lost answer: intents %d, orders %d", e.local.Created(), e.countOrders(t))
	}
	w := e.post("k1", validBody)
	if w.Code != http.StatusCreated {
		t.Fatalf("retry: %d %s", w.Code, w.Body)
	}
	res := decode(t, w)
	o, err := e.orders.Get(t.Context(), res.OrderID)
	if err != nil || o.PaymentIntentID != res.PaymentIntentID {
		t.Fatalf("order %+v, %v", o, err)
	}
	if e.local.Created() != 1 || e.countOrders(t) != 1 {
		t.Fatalf("intents %d, orders %d: want one of each", e.local.Created(), e.countOrders(t))
	}
	want := checkout.ProviderKey(scoped("k1"))
	if len(keys) != 2 || keys[0] != want || keys[1] != want {
		t.Fatalf("provider keys %q, want twice %q", keys, want)
	}
}

func TestLeaseTakeoverChargesOnce(t *testing.T) {
	e := newEnv(t)
	inProvider, release := make(chan struct{}), make(chan struct{})
	e.local.SetFault(func(req payment.Request, attempt int) payment.Fault {
		if attempt == 1 {
			close(inProvider)
			return payment.Fault{Release: release} // held before charging
		}
		return payment.Fault{}
	})
	slow := make(chan string)
	go func() { w := e.post("k1", validBody); slow <- w.Body.String() }()
	<-inProvider
	e.clock.Add(idem.DefaultLease + time.Second) // the first attempt's lease runs out
	fast := e.post("k1", validBody)
	if fast.Code != http.StatusCreated || fast.Header().Get(idem.ReplayedHeader) != "" {
		t.Fatalf("takeover: %d %s", fast.Code, fast.Body)
	}
	close(release)
	if body := <-slow; body != fast.Body.String() {
		t.Fatalf("the slow attempt answered %s, the takeover %s", body, fast.Body)
	}
	if e.local.Created() != 1 || e.local.Calls() != 2 || e.countOrders(t) != 1 {
		t.Fatalf("intents %d, calls %d, orders %d", e.local.Created(), e.local.Calls(), e.countOrders(t))
	}
}

func TestKeyReusedAfterItsRecordExpired(t *testing.T) {
	e := newEnv(t) // TTL 1 h
	first := decode(t, e.post("k1", validBody))
	e.clock.Add(2 * time.Hour)

	t.Run("the same request answers 200 with the original order and charges nothing", func(t *testing.T) {
		w := e.post("k1", validBody)
		if w.Code != http.StatusOK || w.Header().Get(idem.ReplayedHeader) != "" {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
		if got := decode(t, w); !reflect.DeepEqual(got, first) {
			t.Fatalf("got %+v, want %+v", got, first)
		}
		if e.local.Calls() != 1 || e.countOrders(t) != 1 {
			t.Fatalf("calls %d, orders %d", e.local.Calls(), e.countOrders(t))
		}
	})
	t.Run("another request under the key answers 422", func(t *testing.T) {
		testenv.AssertProblem(t, e.post("k1", strings.Replace(validBody, "tee-black-m", "tee-white-l", 1)), http.StatusUnprocessableEntity, problem.KeyMismatch)
		if e.local.Calls() != 1 || e.countOrders(t) != 1 {
			t.Fatalf("calls %d, orders %d", e.local.Calls(), e.countOrders(t))
		}
	})
	t.Run("a declined order still answers 402", func(t *testing.T) {
		body := `{"items":[{"sku":"sticker-pack","quantity":1}],"currency":"usd","payment_method":"pm_card_chargeDeclined"}`
		testenv.AssertProblem(t, e.post("k2", body), http.StatusPaymentRequired, problem.PaymentDeclined)
		e.clock.Add(2 * time.Hour)
		testenv.AssertProblem(t, e.post("k2", body), http.StatusPaymentRequired, problem.PaymentDeclined)
		if e.local.Calls() != 2 {
			t.Fatalf("calls %d", e.local.Calls())
		}
	})
}

func TestProviderRejections(t *testing.T) {
	t.Run("an unknown payment method answers 400 payment-provider-refused naming payment_method, stored", func(t *testing.T) {
		e := newEnv(t)
		body := `{"items":[{"sku":"sticker-pack","quantity":1}],"currency":"usd","payment_method":"pm_nosuchmethod"}`
		first := e.post("k1", body)
		p := testenv.AssertProblem(t, first, http.StatusBadRequest, problem.ProviderRefused)
		if p.Field != "payment_method" || e.countOrders(t) != 1 || e.orderStatus(t, "k1") != orders.Failed {
			t.Fatalf("problem %+v, orders %d", p, e.countOrders(t))
		}
		again := e.post("k1", body)
		if again.Body.String() != first.Body.String() || again.Header().Get(idem.ReplayedHeader) != "true" || e.local.Calls() != 1 {
			t.Fatalf("the refusal was not stored: %d %s, provider calls %d", again.Code, again.Body, e.local.Calls())
		}
		// A fixed body under the same key is a different request: 422, a new key is needed.
		fixed := strings.Replace(body, "pm_nosuchmethod", "pm_card_visa", 1)
		testenv.AssertProblem(t, e.post("k1", fixed), http.StatusUnprocessableEntity, problem.KeyMismatch)
		if w := e.post("k2", fixed); w.Code != http.StatusCreated {
			t.Fatalf("new key: %d %s", w.Code, w.Body)
		}
	})
	t.Run("an amount below the currency's minimum answers 400 payment-provider-refused naming amount", func(t *testing.T) {
		// The catalog refuses prices below Stripe's minimum; a price lowered under it since
		// (a catalog that does not check) reaches the provider, whose refusal names amount.
		e := newEnv(t, withProducts(catalog.Product{SKU: "pin", Name: "Pin", Prices: map[string]int64{"usd": 50}, Active: true, Stock: 10, Shards: 1}),
			func(o *checkout.Options) { o.Catalog = repriced{o.Catalog, "pin", 49} })
		p := testenv.AssertProblem(t, e.post("k1", `{"items":[{"sku":"pin","quantity":1}],"currency":"usd","payment_method":"pm_card_visa"}`),
			http.StatusBadRequest, problem.ProviderRefused)
		if p.Field != "amount" || !strings.Contains(p.Detail, "$0.50") || e.local.Created() != 0 {
			t.Fatalf("problem %+v, intents %d", p, e.local.Created())
		}
	})
	t.Run("a provider key seen with other parameters answers 422", func(t *testing.T) {
		e := newEnv(t)
		e.local.SetFault(func(_ payment.Request, attempt int) payment.Fault {
			return payment.Fault{LoseResponse: attempt == 1}
		})
		testenv.AssertProblem(t, e.post("k1", validBody), http.StatusBadGateway, problem.ProviderError)
		// The first attempt's order keeps its parameters (a charge for them exists); the other
		// request under its key is refused before the provider is called again.
		other := strings.Replace(validBody, `"quantity":1}],"amount":2500`, `"quantity":2}],"amount":5000`, 1)
		testenv.AssertProblem(t, e.post("k1", other), http.StatusUnprocessableEntity, problem.KeyMismatch)
		o, err := e.orders.Get(t.Context(), checkout.OrderID(scoped("k1")))
		if e.local.Created() != 1 || e.local.Calls() != 1 || err != nil || o.Amount != 2500 || o.Status != orders.Created {
			t.Fatalf("intents %d, calls %d, order %+v %v", e.local.Created(), e.local.Calls(), o, err)
		}
	})
	t.Run("a refusal that is our fault answers 502, releases the key and logs an error", func(t *testing.T) {
		e := newEnv(t, func(o *checkout.Options) {
			o.Payments = providerFunc(func(payment.Request) (payment.Intent, error) {
				return payment.Intent{}, &payment.RejectedError{StatusCode: 401, Type: "invalid_request_error", Message: "Invalid API Key provided: sk_test_****1234"}
			})
		})
		testenv.AssertProblem(t, e.post("k1", validBody), http.StatusBadGateway, problem.ProviderError)
		if n := e.keys.(*testenv.Keys).Len(); n != 0 {
			t.Fatalf("%d records", n)
		}
		if logs := e.logs.String(); !strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, "payment rejected") {
			t.Fatalf("logs %s", logs)
		}
	})
}

// providerFunc is a Provider made of a function.
type providerFunc func(payment.Request) (payment.Intent, error)

func (f providerFunc) CreatePayment(_ context.Context, r payment.Request) (payment.Intent, error) {
	return f(r)
}

func (f providerFunc) Retrieve(context.Context, string) (payment.Intent, error) {
	return payment.Intent{}, payment.ErrUnavailable
}

func (f providerFunc) FindByOrder(context.Context, string) (*payment.Intent, error) {
	return nil, payment.ErrUnavailable
}

func TestOrderReadOnlyByItsOwner(t *testing.T) {
	caller := ""
	e := newEnv(t, func(o *checkout.Options) { o.Principal = func(*http.Request) string { return caller } })
	get := func(id string) *httptest.ResponseRecorder { return e.do(http.MethodGet, "/orders/"+id, "", "") }

	t.Run("without a caller identity the order shows no personal data", func(t *testing.T) {
		caller = ""
		id := decode(t, e.post("anon", validBody)).OrderID
		if w := get(id); w.Code != http.StatusOK || strings.Contains(w.Body.String(), "customer_email") {
			t.Fatalf("GET: %d %s, want 200 without customer_email", w.Code, w.Body)
		}
	})
	t.Run("an identified caller's order is shown to that caller only, e-mail included", func(t *testing.T) {
		caller = "jwt:https://idp|alice"
		id := decode(t, e.post("mine", validBody)).OrderID
		if w := get(id); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"customer_email":"buyer@example.com"`) {
			t.Fatalf("owner GET: %d %s", w.Code, w.Body)
		}
		for _, other := range []string{"jwt:https://idp|mallory", ""} {
			caller = other
			testenv.AssertProblem(t, get(id), http.StatusNotFound, problem.NotFound)
		}
	})
}

// teeLine is the line of validBody as answered: one tee-black-m at the sample's price.
var teeLine = []orders.Line{{SKU: "tee-black-m", Name: "Black tee, M", UnitPrice: 2500, Quantity: 1}}

// sameLines compares lines as a buyer sees them (Shards is not part of the answer).
func sameLines(got, want []orders.Line) bool {
	got = append([]orders.Line(nil), got...)
	for i := range got {
		got[i].Shards = 0
	}
	return reflect.DeepEqual(got, want)
}

// withProducts sells products instead of the sample, from memory stores.
func withProducts(products ...catalog.Product) option {
	return func(o *checkout.Options) {
		units := stock.NewMemory()
		mem := catalog.NewMemoryStore(units)
		if _, err := catalog.Load(context.Background(), mem, products); err != nil {
			panic(err)
		}
		o.Catalog, o.Orders = mem, testenv.NewOrders(orders.NewMemoryStore().WithStock(units))
	}
}

// repriced is a Pricer that sells sku at price (in every currency) whatever the catalog says.
type repriced struct {
	checkout.Pricer
	sku   string
	price int64
}

func (r repriced) Products(ctx context.Context, skus []string) (map[string]catalog.Product, error) {
	got, err := r.Pricer.Products(ctx, skus)
	if p, ok := got[r.sku]; ok && err == nil {
		p.Prices = map[string]int64{}
		for _, cur := range []string{"usd", "eur"} {
			p.Prices[cur] = r.price
		}
		got[r.sku] = p
	}
	return got, err
}

// TestExpiredKeyOutlivesTheCatalog: after a key's record expired, its paid order is the answer
// to the same request even when today's catalog would refuse it before any reservation: the
// product sold out (and marked so), its price changed, or it was retired.
func TestExpiredKeyOutlivesTheCatalog(t *testing.T) {
	e := newEnv(t) // TTL 1 h
	first := decode(t, e.post("k1", validBody))
	e.clock.Add(2 * time.Hour)
	same := func(t *testing.T) {
		t.Helper()
		w := e.post("k1", validBody)
		if w.Code != http.StatusOK {
			t.Fatalf("got %d %s, want 200 and the original order", w.Code, w.Body)
		}
		if got := decode(t, w); !reflect.DeepEqual(got, first) {
			t.Fatalf("got %+v, want %+v", got, first)
		}
		other := strings.Replace(validBody, `"amount":2500`, `"amount":2499`, 1)
		testenv.AssertProblem(t, e.post("k1", other), http.StatusUnprocessableEntity, problem.KeyMismatch)
	}
	t.Run("sold out, and marked so", func(t *testing.T) {
		left := e.available(t, "tee-black-m")
		if w := e.post("k2", cartBody(fmt.Sprintf(`[{"sku":"tee-black-m","quantity":%d}]`, left))); w.Code != http.StatusCreated {
			t.Fatalf("buying the last %d: %d %s", left, w.Code, w.Body)
		}
		testenv.AssertProblem(t, e.post("k3", validBody), http.StatusConflict, problem.OutOfStock)
		same(t)
	})
	reload := func(t *testing.T, change func(*catalog.Product)) {
		t.Helper()
		products := catalog.Sample()
		for i := range products {
			if products[i].SKU == "tee-black-m" {
				change(&products[i])
			}
		}
		if _, err := catalog.Load(t.Context(), e.catalog.(catalog.Loader), products); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Minute) // past the price cache
	}
	t.Run("its price changed", func(t *testing.T) {
		reload(t, func(p *catalog.Product) { p.Prices["usd"] = 2600 })
		testenv.AssertProblem(t, e.post("k4", validBody), http.StatusConflict, problem.PriceChanged)
		same(t)
	})
	t.Run("it was retired", func(t *testing.T) {
		reload(t, func(p *catalog.Product) { p.Active = false })
		testenv.AssertProblem(t, e.post("k5", validBody), http.StatusBadRequest, problem.UnknownProduct)
		same(t)
	})
	if e.local.Created() != 2 || e.countOrders(t) != 2 {
		t.Fatalf("charges %d, orders %d; want 2 and 2", e.local.Created(), e.countOrders(t))
	}
}

// TestSoldOutMarkSparesTheBuyerHoldingTheUnits: an attempt that reserved the last unit and then
// stalled (its process held in the provider, its lease over) is retried while the sold-out mark,
// set by another buyer who found the product short, is on. The retry is the holder of that unit:
// it must reach its reservation and pay (the same provider key), not be told out-of-stock.
func TestSoldOutMarkSparesTheBuyerHoldingTheUnits(t *testing.T) {
	e := newEnv(t)
	mug := `{"items":[{"sku":"mug-enamel","quantity":1}],"currency":"usd","payment_method":"pm_card_visa"}`
	if w := e.post("k0", mug); w.Code != http.StatusCreated {
		t.Fatalf("first mug: %d %s", w.Code, w.Body)
	}
	inProvider, release := make(chan struct{}), make(chan struct{})
	var calls int
	e.local.SetFault(func(payment.Request, int) payment.Fault {
		calls++ // the provider calls are sequential until the hold
		if calls == 1 {
			close(inProvider)
			return payment.Fault{Release: release} // k1 holds the last mug, stalled before charging
		}
		return payment.Fault{}
	})
	slow := make(chan string)
	go func() { w := e.post("k1", mug); slow <- w.Body.String() }()
	<-inProvider
	e.clock.Add(idem.DefaultLease + time.Second)                                         // k1's lease runs out
	testenv.AssertProblem(t, e.post("k2", mug), http.StatusConflict, problem.OutOfStock) // sets the mark
	fast := e.post("k1", mug)
	if fast.Code != http.StatusCreated {
		t.Fatalf("the holder's retry during the sold-out mark: %d %s", fast.Code, fast.Body)
	}
	close(release)
	if body := <-slow; body != fast.Body.String() {
		t.Fatalf("the stalled attempt answered %s, the retry %s", body, fast.Body)
	}
	if e.local.Created() != 2 || e.countOrders(t) != 2 || e.available(t, "mug-enamel") != 0 {
		t.Fatalf("intents %d, orders %d, mugs left %d; want 2, 2, 0", e.local.Created(), e.countOrders(t), e.available(t, "mug-enamel"))
	}
}

// slowReserve is an order store whose reservations take time: longer than the sold-out mark
// lasts (advance: a buyer walking many empty shards under a storm), or until gate is closed
// (entered is closed once the first held one is in).
type slowReserve struct {
	orders.Store
	clock         *testenv.Clock
	advance       time.Duration
	gate, entered chan struct{}
	mu            sync.Mutex
	reserves      int
}

func (s *slowReserve) Reserve(ctx context.Context, o orders.Order, shards map[string]int) (orders.Order, error) {
	s.mu.Lock()
	s.reserves++
	s.mu.Unlock()
	if s.gate != nil {
		close(s.entered)
		<-s.gate
	}
	defer s.clock.Add(s.advance)
	return s.Store.Reserve(ctx, o, shards)
}

func (s *slowReserve) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.reserves }

// sellOutMugs buys every mug-enamel left, then one more (answered 409: the mark is set).
func sellOutMugs(t *testing.T, e *env) {
	t.Helper()
	for left := e.available(t, "mug-enamel"); left > 0; left = e.available(t, "mug-enamel") {
		if w := e.post("buy-"+strconv.Itoa(left), mugs(left)); w.Code != http.StatusCreated {
			t.Fatalf("buying the last %d mugs: %d %s", left, w.Code, w.Body)
		}
	}
	testenv.AssertProblem(t, e.post("late-1", mugs(1)), http.StatusConflict, problem.OutOfStock)
}

func mugs(n int) string {
	return `{"items":[{"sku":"mug-enamel","quantity":` + strconv.Itoa(n) + `}],"currency":"usd","payment_method":"pm_card_visa"}`
}

// TestSoldOutMarkLastsFromTheAnswer: the mark counts from when the reservation found the
// units gone, not from when the request began; a walk that outlasted SoldOutFor left a mark
// already expired, and every next buyer walked the shards again.
func TestSoldOutMarkLastsFromTheAnswer(t *testing.T) {
	slow := &slowReserve{advance: checkout.SoldOutFor + time.Second}
	e := newEnv(t, func(o *checkout.Options) { slow.Store, o.Orders = o.Orders, slow })
	slow.clock = e.clock
	sellOutMugs(t, e)
	before := slow.count()
	testenv.AssertProblem(t, e.post("late-2", mugs(1)), http.StatusConflict, problem.OutOfStock)
	if slow.count() != before {
		t.Fatalf("the next buyer reserved again (%d reservations, want %d): the mark had expired as it was set", slow.count(), before)
	}
}

// TestOneAttemptProbesALapsedMark: when the sold-out mark lapses, one attempt looks at the
// stock again; the attempts meanwhile are answered from the mark, without a transaction.
func TestOneAttemptProbesALapsedMark(t *testing.T) {
	slow := &slowReserve{}
	e := newEnv(t, func(o *checkout.Options) { slow.Store, o.Orders = o.Orders, slow })
	slow.clock = e.clock
	sellOutMugs(t, e)
	e.clock.Add(checkout.SoldOutFor + time.Second) // the mark lapses
	slow.gate, slow.entered = make(chan struct{}), make(chan struct{})
	probe := make(chan *httptest.ResponseRecorder)
	go func() { probe <- e.post("late-2", mugs(1)) }()
	<-slow.entered
	before := slow.count()
	testenv.AssertProblem(t, e.post("late-3", mugs(1)), http.StatusConflict, problem.OutOfStock)
	if slow.count() != before {
		t.Fatalf("an attempt during the probe reserved too (%d reservations, want %d)", slow.count(), before)
	}
	close(slow.gate)
	testenv.AssertProblem(t, <-probe, http.StatusConflict, problem.OutOfStock)
	slow.gate = nil
	testenv.AssertProblem(t, e.post("late-4", mugs(1)), http.StatusConflict, problem.OutOfStock)
	if slow.count() != before {
		t.Fatalf("the probe's answer did not renew the mark (%d reservations, want %d)", slow.count(), before)
	}
}
