package main

import (
	"context"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/payment"
)

// TestFakeStripeAnswersStripeGo: the Go function's Stripe provider (stripe-go) creates a
// PaymentIntent on the fake, the same key gives the same one, and a second key a second one.
func TestFakeStripeAnswersStripeGo(t *testing.T) {
	f := startFakeStripe()
	defer f.Close()
	p, err := payment.NewStripe("sk_test_bench", f.URL)
	if err != nil {
		t.Fatal(err)
	}
	req := payment.Request{Amount: 1999, Currency: "eur", PaymentMethod: "pm_card_visa", OrderID: "ord_1", IdempotencyKey: "checkout-a"}
	a, err := p.CreatePayment(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.CreatePayment(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	req.IdempotencyKey = "checkout-b"
	c, err := p.CreatePayment(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || a.ID == c.ID || !strings.HasPrefix(a.ID, "pi_") || a.Outcome != payment.Succeeded {
		t.Errorf("intents %+v, %+v, %+v", a, b, c)
	}
	if n := f.created(func(string) bool { return true }); n != 2 {
		t.Errorf("%d PaymentIntents created, want 2", n)
	}
}
