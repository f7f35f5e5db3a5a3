package checkout

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/catalog"
)

// The rules the parser checks with loops, as patterns: the oracles of the fuzz targets.
var (
	paymentMethodRule = regexp.MustCompile(`^pm_[A-Za-z0-9_]{1,100}$`)
	skuRule           = regexp.MustCompile(catalog.SKURule)
)

// FuzzRules checks the loops of validPaymentMethod and catalog.ValidSKU against their patterns.
func FuzzRules(f *testing.F) {
	for _, s := range []string{"pm_card_visa", "pm_", "pm_" + strings.Repeat("a", 100), "pm_" + strings.Repeat("a", 101),
		"pm_x-y", "PM_x", "tee-black-m", "-a", "a#1", "", strings.Repeat("a", 64), strings.Repeat("a", 65), "9._-", "A", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validPaymentMethod(s), paymentMethodRule.MatchString(s); got != want {
			t.Errorf("validPaymentMethod(%q) = %v, the pattern says %v", s, got, want)
		}
		if got, want := catalog.ValidSKU(s), skuRule.MatchString(s); got != want {
			t.Errorf("catalog.ValidSKU(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}

// FuzzParseRequest checks that no body panics the parser, that every rejection names a known
// field (or the body) through a *fieldError, and that every accepted body is within the limits.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"items":[{"sku":"tee-black-m","quantity":1}],"amount":2500,"currency":"usd","payment_method":"pm_card_visa","customer_email":"a@b.co"}`,
		`{"items":[{"sku":"b","quantity":2},{"sku":"a","quantity":99}],"currency":"eur"}`,
		`{"items":[{"sku":"a","quantity":1e3}],"currency":"USD"}`, `{"items":[{"sku":"a","quantity":1,"x":1}]}`,
		`{"cart_id":"c","amount":1e3,"currency":"USD"}`, `{1:2}`, `{"a":}`, `[]`, `{}{}`, `{"items":[],}`, `nul`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseRequest(body)
		if err != nil {
			var fe *fieldError
			if !errors.As(err, &fe) || fe.Detail == "" {
				t.Fatalf("error %v is not a fieldError with a detail", err)
			}
			return
		}
		if len(req.Items) < 1 || len(req.Items) > MaxLines || req.Amount < 0 || req.Amount > MaxAmount ||
			!currencies[req.Currency] || len(req.CustomerEmail) > MaxEmail ||
			(req.PaymentMethod != "" && !paymentMethodRule.MatchString(req.PaymentMethod)) {
			t.Fatalf("accepted %q as %+v", body, req)
		}
	})
}
