package checkout_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// sameParameters are validBody written differently: each must replay the first answer.
var sameParameters = []struct{ name, body string }{
	{"fields in another order", `{"customer_email":"buyer@example.com","payment_method":"pm_card_visa","currency":"usd","amount":2500,"items":[{"sku":"tee-black-m","quantity":1}]}`},
	{"an item's fields in another order", `{"items":[{"quantity":1,"sku":"tee-black-m"}],"amount":2500,"currency":"usd","payment_method":"pm_card_visa","customer_email":"buyer@example.com"}`},
	{"whitespace between tokens", "{ \"items\" : [ { \"sku\": \"tee-black-m\",\n\t\"quantity\": 1 } ],\n\t\"amount\": 2500, \"currency\":\"usd\", \"payment_method\":\"pm_card_visa\", \"customer_email\":\"buyer@example.com\" }"},
	{"a trailing newline", validBody + "\n"},
	{"an escaped character", `{"items":[{"sku":"tee\u002dblack-m","quantity":1}],"amount":2500,"currency":"usd","payment_method":"pm_card_visa","customer_email":"buyer@example.com"}`},
}

// otherParameters change one value of validBody each: each must answer 422 (the cart's total,
// amount, kept right where a line changes, so that pricing passes; a wrong amount too, which
// after the key's record expired fails pricing first and still answers 422, as the order exists).
var otherParameters = []struct {
	name, old, new string
}{
	{"amount", `"amount":2500`, `"amount":2499`},
	{"currency", `"amount":2500,"currency":"usd"`, `"amount":2300,"currency":"eur"`},
	{"sku", `"sku":"tee-black-m"`, `"sku":"tee-white-l"`},
	{"quantity", `"quantity":1}],"amount":2500`, `"quantity":2}],"amount":5000`},
	{"line added", `"quantity":1}],"amount":2500`, `"quantity":1},{"sku":"mug-enamel","quantity":1}],"amount":3900`},
	{"payment method", `"payment_method":"pm_card_visa"`, `"payment_method":"pm_card_mastercard"`},
	{"payment method left out", `,"payment_method":"pm_card_visa"`, ``},
	{"e-mail", `"customer_email":"buyer@example.com"`, `"customer_email":"other@example.com"`},
	{"e-mail left out", `,"customer_email":"buyer@example.com"`, ``},
}

func TestTheSameParametersReplay(t *testing.T) {
	e := newEnv(t)
	first := e.post("k1", validBody)
	if first.Code != http.StatusCreated {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	for _, tc := range sameParameters {
		t.Run(tc.name+" replays byte for byte", func(t *testing.T) {
			w := e.post("k1", tc.body)
			if w.Code != http.StatusCreated || w.Body.String() != first.Body.String() || w.Header().Get(idem.ReplayedHeader) != "true" {
				t.Fatalf("got %d %s %v, want the first answer replayed", w.Code, w.Body, w.Header())
			}
		})
	}
	t.Run("an explicit null for an absent optional field replays", func(t *testing.T) {
		body := `{"items":[{"sku":"sticker-pack","quantity":1}],"currency":"usd"}`
		a := e.post("k2", body)
		b := e.post("k2", `{"items":[{"sku":"sticker-pack","quantity":1}],"amount":null,"currency":"usd","payment_method":null,"customer_email":null}`)
		if a.Code != http.StatusCreated || b.Body.String() != a.Body.String() || b.Header().Get(idem.ReplayedHeader) != "true" {
			t.Fatalf("first %d %s, second %d %s", a.Code, a.Body, b.Code, b.Body)
		}
	})
	for _, tc := range otherParameters {
		t.Run("another "+tc.name+" answers 422", func(t *testing.T) {
			body := strings.Replace(validBody, tc.old, tc.new, 1)
			if body == validBody {
				t.Fatal("the case changes nothing")
			}
			testenv.AssertProblem(t, e.post("k1", body), http.StatusUnprocessableEntity, problem.KeyMismatch)
		})
	}
	if e.local.Calls() != 2 || e.countOrders(t) != 2 {
		t.Fatalf("provider calls %d, orders %d; want 2 and 2", e.local.Calls(), e.countOrders(t))
	}
}

func TestKeyReusedAfterExpiryComparesTheSameFields(t *testing.T) {
	e := newEnv(t) // TTL 1 h
	if w := e.post("k1", validBody); w.Code != http.StatusCreated {
		t.Fatalf("first: %d %s", w.Code, w.Body)
	}
	e.clock.Add(2 * time.Hour)
	for _, tc := range otherParameters {
		t.Run("another "+tc.name+" answers 422", func(t *testing.T) {
			testenv.AssertProblem(t, e.post("k1", strings.Replace(validBody, tc.old, tc.new, 1)), http.StatusUnprocessableEntity, problem.KeyMismatch)
		})
	}
	for _, tc := range sameParameters {
		t.Run(tc.name+" answers 200 with the order", func(t *testing.T) {
			if w := e.post("k1", tc.body); w.Code != http.StatusOK {
				t.Fatalf("got %d %s", w.Code, w.Body)
			}
		})
	}
	if e.local.Calls() != 1 || e.countOrders(t) != 1 {
		t.Fatalf("provider calls %d, orders %d", e.local.Calls(), e.countOrders(t))
	}
}

func TestContentType(t *testing.T) {
	cases := []struct {
		name, contentType string
		want              int
	}{
		{"application/json", "application/json", http.StatusCreated},
		{"application/json with charset utf-8", "application/json; charset=utf-8", http.StatusCreated},
		{"uppercase type and charset", "Application/JSON; charset=UTF-8", http.StatusCreated},
		{"no content type", "", http.StatusUnsupportedMediaType},
		{"text/plain", "text/plain", http.StatusUnsupportedMediaType},
		{"a form", "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"another charset", "application/json; charset=latin1", http.StatusUnsupportedMediaType},
		{"a malformed media type", "application/json; =", http.StatusUnsupportedMediaType},
		{"a JSON suffix type", "application/merge-patch+json", http.StatusUnsupportedMediaType},
	}
	for i, tc := range cases {
		t.Run(tc.name+" answers "+http.StatusText(tc.want), func(t *testing.T) {
			e := newEnv(t)
			r := newPost(idemKey(i), validBody)
			r.Header.Del("Content-Type")
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			w := e.serve(r)
			if tc.want != http.StatusCreated {
				testenv.AssertProblem(t, w, tc.want, problem.MediaType)
				if n := e.keys.(*testenv.Keys).Len(); n != 0 || e.local.Calls() != 0 {
					t.Fatalf("records %d, provider calls %d: want nothing claimed or charged", n, e.local.Calls())
				}
				return
			}
			if w.Code != tc.want {
				t.Fatalf("got %d %s", w.Code, w.Body)
			}
		})
	}
	t.Run("a missing key is still reported first", func(t *testing.T) {
		e := newEnv(t)
		r := newPost("", validBody)
		r.Header.Set("Content-Type", "text/plain")
		testenv.AssertProblem(t, e.serve(r), http.StatusBadRequest, problem.KeyMissing)
	})
}

func TestDeclineCarriesTheOrderID(t *testing.T) {
	e := newEnv(t)
	body := `{"items":[{"sku":"sticker-pack","quantity":1}],"currency":"usd","payment_method":"pm_card_chargeDeclined"}`
	p := testenv.AssertProblem(t, e.post("k1", body), http.StatusPaymentRequired, problem.PaymentDeclined)
	if want := checkout.OrderID(scoped("k1")); p.OrderID != want {
		t.Fatalf("order_id %q, want %q", p.OrderID, want)
	}
	e.clock.Add(2 * time.Hour) // past the record: the order answers
	p = testenv.AssertProblem(t, e.post("k1", body), http.StatusPaymentRequired, problem.PaymentDeclined)
	if p.OrderID != checkout.OrderID(scoped("k1")) {
		t.Fatalf("after expiry: order_id %q", p.OrderID)
	}
}

func TestValidationIsNotStoredButAProviderRefusalIs(t *testing.T) {
	e := newEnv(t)
	bad := strings.Replace(validBody, "pm_card_visa", "card_visa", 1) // ours: not a pm_ id
	p := testenv.AssertProblem(t, e.post("k1", bad), http.StatusBadRequest, problem.InvalidRequest)
	if p.Field != "payment_method" {
		t.Fatalf("field %q", p.Field)
	}
	if w := e.post("k1", validBody); w.Code != http.StatusCreated { // the same key, fixed
		t.Fatalf("fixed body under the same key: %d %s", w.Code, w.Body)
	}
	e.local.SetFault(func(payment.Request, int) payment.Fault { return payment.Fault{} })
	refused := strings.Replace(validBody, "pm_card_visa", "pm_unknown", 1) // the provider's
	testenv.AssertProblem(t, e.post("k2", refused), http.StatusBadRequest, problem.ProviderRefused)
	testenv.AssertProblem(t, e.post("k2", validBody), http.StatusUnprocessableEntity, problem.KeyMismatch)
}

// newPost is a POST /checkout with key (none when empty), Content-Type application/json and body.
func newPost(key, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/checkout", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if key != "" {
		r.Header.Set(idem.KeyHeader, key)
	}
	return r
}

func (e *env) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func idemKey(i int) string { return fmt.Sprintf("key-%d", i) }
