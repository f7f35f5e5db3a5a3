package checkout

import (
	"errors"
	"testing"
)

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
			(req.PaymentMethod != "" && !paymentMethodRE.MatchString(req.PaymentMethod)) {
			t.Fatalf("accepted %q as %+v", body, req)
		}
	})
}
