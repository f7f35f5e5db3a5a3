package checkout_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/testenv"
)

func TestInvalidRequestsAreRejectedBeforeTheKeyIsClaimed(t *testing.T) {
	long := strings.Repeat("x", 129)
	cases := []struct {
		name, body, field, detail string
	}{
		{"an empty body", ``, "", "empty"},
		{"a body that is not JSON", `{"cart_id":`, "", "ends before"},
		{"broken JSON", `{"cart_id" "c"}`, "", "not valid JSON"},
		{"an array instead of an object", `[1]`, "", "JSON object"},
		{"a string instead of an object", `"hello"`, "", "JSON object"},
		{"a second JSON value", `{"cart_id":"c","amount":1,"currency":"usd"} {}`, "", "after the JSON object"},
		{"trailing garbage", `{"cart_id":"c","amount":1,"currency":"usd"}x`, "", "after the JSON object"},
		{"a trailing comma", `{"cart_id":"c","amount":1,"currency":"usd",}`, "", "not valid JSON"},
		{"an unknown field", `{"cart_id":"c","amount":1,"currency":"usd","coupon":"FREE"}`, "coupon", "unknown field"},
		{"a field name in the wrong case", `{"cart_id":"c","Amount":1,"currency":"usd"}`, "Amount", "unknown field"},
		{"a repeated field", `{"cart_id":"c","amount":1,"amount":2,"currency":"usd"}`, "amount", "more than once"},
		{"a missing cart_id", `{"amount":1,"currency":"usd"}`, "cart_id", "required"},
		{"a null cart_id", `{"cart_id":null,"amount":1,"currency":"usd"}`, "cart_id", "required"},
		{"an empty cart_id", `{"cart_id":"","amount":1,"currency":"usd"}`, "cart_id", "empty"},
		{"a numeric cart_id", `{"cart_id":7,"amount":1,"currency":"usd"}`, "cart_id", "must be a string, not a number"},
		{"a cart_id of 129 characters", `{"cart_id":"` + long + `","amount":1,"currency":"usd"}`, "cart_id", "at most 128"},
		{"a cart_id with a control character", `{"cart_id":"a\u0007b","amount":1,"currency":"usd"}`, "cart_id", "printable"},
		{"a cart_id with non-ASCII", `{"cart_id":"caf\u00e9","amount":1,"currency":"usd"}`, "cart_id", "printable"},
		{"a missing amount", `{"cart_id":"c","currency":"usd"}`, "amount", "required"},
		{"a zero amount", `{"cart_id":"c","amount":0,"currency":"usd"}`, "amount", "at least 1"},
		{"a negative amount", `{"cart_id":"c","amount":-5,"currency":"usd"}`, "amount", "at least 1"},
		{"a fractional amount", `{"cart_id":"c","amount":10.5,"currency":"usd"}`, "amount", "integer"},
		{"an amount in exponent notation", `{"cart_id":"c","amount":1e3,"currency":"usd"}`, "amount", "integer"},
		{"an amount as a string", `{"cart_id":"c","amount":"100","currency":"usd"}`, "amount", "not a string"},
		{"an amount above Stripe's maximum", `{"cart_id":"c","amount":100000000,"currency":"usd"}`, "amount", "at most 99999999"},
		{"an amount beyond int64", `{"cart_id":"c","amount":99999999999999999999999,"currency":"usd"}`, "amount", "at most 99999999"},
		{"a missing currency", `{"cart_id":"c","amount":1}`, "currency", "required"},
		{"an uppercase currency", `{"cart_id":"c","amount":1,"currency":"USD"}`, "currency", `lowercase: use "usd"`},
		{"an unknown currency", `{"cart_id":"c","amount":1,"currency":"xyz"}`, "currency", "not a supported"},
		{"a currency that is not a string", `{"cart_id":"c","amount":1,"currency":840}`, "currency", "must be a string"},
		{"a payment method without pm_", `{"cart_id":"c","amount":1,"currency":"usd","payment_method":"card_123"}`, "payment_method", "pm_"},
		{"a bare pm_", `{"cart_id":"c","amount":1,"currency":"usd","payment_method":"pm_"}`, "payment_method", "pm_"},
		{"a payment method with a dash", `{"cart_id":"c","amount":1,"currency":"usd","payment_method":"pm_a-b"}`, "payment_method", "pm_"},
		{"a payment method of 104 characters", `{"cart_id":"c","amount":1,"currency":"usd","payment_method":"pm_` + strings.Repeat("a", 101) + `"}`, "payment_method", "pm_"},
		{"a payment method that is an object", `{"cart_id":"c","amount":1,"currency":"usd","payment_method":{"card":"4242"}}`, "payment_method", "not an object"},
		{"an e-mail without @", `{"cart_id":"c","amount":1,"currency":"usd","customer_email":"nope"}`, "customer_email", "e-mail address"},
		{"an e-mail with a display name", `{"cart_id":"c","amount":1,"currency":"usd","customer_email":"Buyer <b@example.com>"}`, "customer_email", "bare"},
		{"an e-mail of 255 characters", `{"cart_id":"c","amount":1,"currency":"usd","customer_email":"` + strings.Repeat("a", 243) + `@example.com"}`, "customer_email", "at most 254"},
		{"an e-mail that is a boolean", `{"cart_id":"c","amount":1,"currency":"usd","customer_email":true}`, "customer_email", "not a boolean"},
	}
	e := newEnv(t)
	for i, tc := range cases {
		t.Run(tc.name+" answers 400 naming "+fmt.Sprintf("%q", tc.field), func(t *testing.T) {
			key := fmt.Sprintf("invalid-%d", i)
			p := testenv.AssertProblem(t, e.post(key, tc.body), http.StatusBadRequest, problem.InvalidRequest)
			if p.Field != tc.field || !strings.Contains(p.Detail, tc.detail) {
				t.Fatalf("field %q detail %q, want field %q and a detail containing %q", p.Field, p.Detail, tc.field, tc.detail)
			}
			if n := e.countOrders(t); n != 0 {
				t.Fatalf("%d orders after an invalid request", n)
			}
			if n := e.local.Calls(); n != 0 {
				t.Fatalf("provider called %d times", n)
			}
			if n := e.keys.(*testenv.Keys).Len(); n != 0 {
				t.Fatalf("%d idempotency records stored for an invalid request", n)
			}
		})
	}
	t.Run("the same keys with a valid body then execute normally", func(t *testing.T) {
		for i := range cases {
			w := e.post(fmt.Sprintf("invalid-%d", i), validBody)
			if w.Code != http.StatusCreated || w.Header().Get(idem.ReplayedHeader) != "" {
				t.Fatalf("key invalid-%d: %d %s", i, w.Code, w.Body)
			}
		}
		if n := e.countOrders(t); n != len(cases) {
			t.Fatalf("%d orders, want %d", n, len(cases))
		}
	})
}

func TestTheKeyIsCheckedBeforeTheBody(t *testing.T) {
	e := newEnv(t)
	t.Run("a missing key answers 400 key-missing even with a bad body", func(t *testing.T) {
		p := testenv.AssertProblem(t, e.post("", `{"nope`), http.StatusBadRequest, problem.KeyMissing)
		if p.Field != idem.KeyHeader {
			t.Fatalf("field %q", p.Field)
		}
	})
	t.Run("an invalid key answers 400 key-invalid", func(t *testing.T) {
		testenv.AssertProblem(t, e.post(strings.Repeat("k", 256), validBody), http.StatusBadRequest, problem.KeyInvalid)
	})
	t.Run("a body over 16 KiB answers 413 and stores nothing", func(t *testing.T) {
		body := `{"cart_id":"` + strings.Repeat("c", 16<<10) + `","amount":1,"currency":"usd"}`
		testenv.AssertProblem(t, e.post("big", body), http.StatusRequestEntityTooLarge, problem.BodyTooLarge)
		if n := e.keys.(*testenv.Keys).Len(); n != 0 {
			t.Fatalf("%d records", n)
		}
	})
	t.Run("a quoted structured-field key is the same key as the bare one", func(t *testing.T) {
		first := e.post("sf-key", validBody)
		again := e.post(`"sf-key"`, validBody)
		if first.Code != http.StatusCreated || again.Header().Get(idem.ReplayedHeader) != "true" || first.Body.String() != again.Body.String() {
			t.Fatalf("first %d %s, again %d %s", first.Code, first.Body, again.Code, again.Body)
		}
	})
}
