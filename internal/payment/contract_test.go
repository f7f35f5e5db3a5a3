package payment_test

import (
	"context"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// TestProviderContract runs what every Provider must do against each implementation. (What
// stripe-mock cannot do, being stateless, is tested on Local and with canned answers.)
func TestProviderContract(t *testing.T) {
	providers := map[string]func(t *testing.T) payment.Provider{
		"Local": func(*testing.T) payment.Provider { return payment.NewLocal() },
		"Stripe on stripe-mock": func(t *testing.T) payment.Provider {
			return newStripe(t, testenv.StripeMock(t))
		},
	}
	for name, newProvider := range providers {
		t.Run(name, func(t *testing.T) {
			p := newProvider(t)
			t.Run("a payment without a payment method waits for the buyer with a client secret", func(t *testing.T) {
				in, err := p.CreatePayment(context.Background(), payment.Request{OrderID: "ord_c1", Amount: 1000,
					Currency: "eur", IdempotencyKey: "contract-" + name + "-1"})
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(in.ID, "pi_") || in.Outcome != payment.Pending || !strings.HasPrefix(in.ClientSecret, "pi_") {
					t.Fatalf("intent = %+v, want a pi_ id, Pending, a pi_..._secret_ client secret", in)
				}
			})
			t.Run("a payment with a test card returns a PaymentIntent", func(t *testing.T) {
				in, err := p.CreatePayment(context.Background(), payment.Request{OrderID: "ord_c2", Amount: 1000,
					Currency: "eur", PaymentMethod: "pm_card_visa", IdempotencyKey: "contract-" + name + "-2"})
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(in.ID, "pi_") || in.Outcome == "" {
					t.Fatalf("intent = %+v, want a pi_ id and an outcome", in)
				}
			})
		})
	}
}
