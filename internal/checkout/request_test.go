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
	// b is a body with one valid item and currency usd, then rest (fields with a leading comma).
	b := func(rest string) string {
		return `{"items":[{"sku":"tee-black-m","quantity":1}],"currency":"usd"` + rest + `}`
	}
	// it is a body whose items are items (a JSON array).
	it := func(items string) string { return `{"items":` + items + `,"currency":"usd"}` }
	lines := func(n int) string {
		l := make([]string, n)
		for i := range l {
			l[i] = fmt.Sprintf(`{"sku":"sku-%d","quantity":1}`, i)
		}
		return "[" + strings.Join(l, ",") + "]"
	}
	cases := []struct {
		name, body, field, detail string
	}{
		{"an empty body", ``, "", "empty"},
		{"a body that is not JSON", `{"items":`, "", "ends before"},
		{"broken JSON", `{"items" []}`, "", "not valid JSON"},
		{"an array instead of an object", `[1]`, "", "JSON object"},
		{"a string instead of an object", `"hello"`, "", "JSON object"},
		{"a second JSON value", b(``) + ` {}`, "", "after the JSON object"},
		{"trailing garbage", b(``) + `x`, "", "after the JSON object"},
		{"a trailing comma", b(`,`), "", "not valid JSON"},
		{"an unknown field", b(`,"coupon":"FREE"`), "coupon", "unknown field"},
		{"a field name in the wrong case", b(`,"Amount":1`), "Amount", "unknown field"},
		{"a repeated field", b(`,"amount":1,"amount":2`), "amount", "more than once"},
		{"a cart_id body (the old request)", `{"cart_id":"c","amount":1,"currency":"usd"}`, "cart_id", `send "items"`},
		{"missing items", `{"amount":1,"currency":"usd"}`, "items", "required"},
		{"null items", `{"items":null,"currency":"usd"}`, "items", "required"},
		{"items that are an object", `{"items":{"sku":"tee-black-m","quantity":1},"currency":"usd"}`, "items", "must be an array"},
		{"no lines", it(`[]`), "items", "holds 0 lines; from 1 to 20"},
		{"21 lines", it(lines(21)), "items", "holds 21 lines; from 1 to 20"},
		{"a line that is not an object", it(`["tee-black-m"]`), "items[0]", "must be an object"},
		{"a line that is null", it(`[null]`), "items[0]", "must be an object"},
		{"an unknown field in an item", it(`[{"sku":"tee-black-m","quantity":1,"price":1}]`), "items[0].price", "unknown field"},
		{"a missing sku", it(`[{"quantity":1}]`), "items[0].sku", "required"},
		{"a numeric sku", it(`[{"sku":7,"quantity":1}]`), "items[0].sku", "must be a string, not a number"},
		{"an uppercase sku", it(`[{"sku":"TEE","quantity":1}]`), "items[0].sku", "is not a sku"},
		{"a sku naming a shard", it(`[{"sku":"tee-black-m#1","quantity":1}]`), "items[0].sku", "is not a sku"},
		{"a sku of 65 characters", it(`[{"sku":"` + strings.Repeat("a", 65) + `","quantity":1}]`), "items[0].sku", "is not a sku"},
		{"a duplicate sku", it(`[{"sku":"tee-black-m","quantity":1},{"sku":"mug-enamel","quantity":1},{"sku":"tee-black-m","quantity":2}]`), "items[2].sku", "more than one line"},
		{"a missing quantity", it(`[{"sku":"tee-black-m"}]`), "items[0].quantity", "required"},
		{"a quantity of 0", it(`[{"sku":"tee-black-m","quantity":0}]`), "items[0].quantity", "at least 1"},
		{"a negative quantity", it(`[{"sku":"tee-black-m","quantity":-1}]`), "items[0].quantity", "at least 1"},
		{"a quantity of 100", it(`[{"sku":"mug-enamel","quantity":1},{"sku":"tee-black-m","quantity":100}]`), "items[1].quantity", "at most 99"},
		{"a fractional quantity", it(`[{"sku":"tee-black-m","quantity":1.5}]`), "items[0].quantity", "integer"},
		{"a quantity as a string", it(`[{"sku":"tee-black-m","quantity":"1"}]`), "items[0].quantity", "not a string"},
		{"a zero amount", b(`,"amount":0`), "amount", "at least 1"},
		{"a negative amount", b(`,"amount":-5`), "amount", "at least 1"},
		{"a fractional amount", b(`,"amount":10.5`), "amount", "integer"},
		{"an amount in exponent notation", b(`,"amount":1e3`), "amount", "integer"},
		{"an amount as a string", b(`,"amount":"100"`), "amount", "not a string"},
		{"an amount above Stripe's maximum", b(`,"amount":100000000`), "amount", "at most 99999999"},
		{"an amount beyond int64", b(`,"amount":99999999999999999999999`), "amount", "at most 99999999"},
		{"a missing currency", `{"items":[{"sku":"tee-black-m","quantity":1}]}`, "currency", "required"},
		{"an uppercase currency", `{"items":[{"sku":"tee-black-m","quantity":1}],"currency":"USD"}`, "currency", `lowercase: use "usd"`},
		{"an unknown currency", `{"items":[{"sku":"tee-black-m","quantity":1}],"currency":"xyz"}`, "currency", "not a supported"},
		{"a currency that is not a string", `{"items":[{"sku":"tee-black-m","quantity":1}],"currency":840}`, "currency", "must be a string"},
		{"a payment method without pm_", b(`,"payment_method":"card_123"`), "payment_method", "pm_"},
		{"a bare pm_", b(`,"payment_method":"pm_"`), "payment_method", "pm_"},
		{"a payment method with a dash", b(`,"payment_method":"pm_a-b"`), "payment_method", "pm_"},
		{"a payment method of 104 characters", b(`,"payment_method":"pm_` + strings.Repeat("a", 101) + `"`), "payment_method", "pm_"},
		{"a payment method that is an object", b(`,"payment_method":{"card":"4242"}`), "payment_method", "not an object"},
		{"an e-mail without @", b(`,"customer_email":"nope"`), "customer_email", "e-mail address"},
		{"an e-mail with a display name", b(`,"customer_email":"Buyer <b@example.com>"`), "customer_email", "bare"},
		{"an e-mail of 255 characters", b(`,"customer_email":"` + strings.Repeat("a", 243) + `@example.com"`), "customer_email", "at most 254"},
		{"an e-mail that is a boolean", b(`,"customer_email":true`), "customer_email", "not a boolean"},
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
		body := `{"items":[{"sku":"tee-black-m","quantity":1}],"currency":"usd","customer_email":"` + strings.Repeat("c", 16<<10) + `@example.com"}`
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
