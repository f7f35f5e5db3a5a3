package payment_test

import (
	"context"
	"errors"
	"testing"

	"github.com/checkout-idem/checkout/internal/payment"
)

func TestLocalRefusesAmountsBelowStripesMinimum(t *testing.T) {
	for _, tc := range []struct {
		currency string
		min      int64
		message  string
	}{
		{"usd", 50, "Amount must be at least $0.50 usd"},
		{"eur", 50, "Amount must be at least €0.50 eur"},
		{"gbp", 30, "Amount must be at least £0.30 gbp"},
		{"jpy", 50, "Amount must be at least ¥50 jpy"},
		{"huf", 17500, "Amount must be at least 175.00 huf"},
		{"mxn", 1000, "Amount must be at least $10.00 mxn"},
		{"czk", 1500, "Amount must be at least 15.00 czk"},
	} {
		t.Run(tc.currency+" below its minimum is amount_too_small, at it is charged", func(t *testing.T) {
			l := payment.NewLocal()
			req := payment.Request{OrderID: "ord_1", Amount: tc.min - 1, Currency: tc.currency, PaymentMethod: "pm_card_visa", IdempotencyKey: "k-" + tc.currency}
			_, err := l.CreatePayment(context.Background(), req)
			var r *payment.RejectedError
			if !errors.As(err, &r) || r.StatusCode != 400 || r.Type != "invalid_request_error" ||
				r.Code != "amount_too_small" || r.Param != "amount" || r.Message != tc.message {
				t.Fatalf("err = %#v, want amount_too_small %q", err, tc.message)
			}
			if l.Created() != 0 {
				t.Fatalf("Created() = %d", l.Created())
			}
			req.Amount = tc.min // not stored: the same key at the minimum goes through
			if in, err := l.CreatePayment(context.Background(), req); err != nil || in.Outcome != payment.Succeeded {
				t.Fatalf("at the minimum: %+v, %v", in, err)
			}
		})
	}
	t.Run("a currency without a documented minimum accepts 1", func(t *testing.T) {
		l := payment.NewLocal()
		if _, err := l.CreatePayment(context.Background(), payment.Request{Amount: 1, Currency: "isk", PaymentMethod: "pm_card_visa"}); err != nil {
			t.Fatal(err)
		}
	})
}
