package checkout_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// capture records the Idempotency-Key of every request it carries.
type capture struct {
	mu   sync.Mutex
	keys []string
}

func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.keys = append(c.keys, r.Header.Get("Idempotency-Key"))
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestThroughStripeOnStripeMock(t *testing.T) {
	base := testenv.StripeMock(t)
	rec := &capture{}
	const secret = "sk_test_checkoutsecret123"
	stripe, err := payment.NewStripe(secret, base, payment.WithHTTPClient(&http.Client{Transport: rec}),
		payment.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *checkout.Options) { o.Payments = stripe })
	for _, tc := range []struct{ name, key, body string }{
		{"with a card", "stripe-1", validBody},
		{"without a payment method", "stripe-2", `{"items":[{"sku":"hoodie-drop-01","quantity":1}],"currency":"eur"}`},
	} {
		t.Run(tc.name+" answers 201 with a PaymentIntent and sends the derived key", func(t *testing.T) {
			w := e.post(tc.key, tc.body)
			if w.Code != http.StatusCreated {
				t.Fatalf("got %d %s", w.Code, w.Body)
			}
			res := decode(t, w)
			if !strings.HasPrefix(res.PaymentIntentID, "pi_") || res.OrderID != checkout.OrderID(scoped(tc.key)) {
				t.Fatalf("response %+v", res)
			}
			// stripe-mock answers fixtures: whatever status it says must map to an order status.
			if !res.Status.Valid() || res.Status == orders.Failed {
				t.Fatalf("status %q", res.Status)
			}
			rec.mu.Lock()
			last := rec.keys[len(rec.keys)-1]
			rec.mu.Unlock()
			if want := checkout.ProviderKey(scoped(tc.key)); last != want {
				t.Fatalf("Idempotency-Key sent to Stripe %q, want %q", last, want)
			}
			if again := e.post(tc.key, tc.body); again.Header().Get(idem.ReplayedHeader) != "true" || again.Body.String() != w.Body.String() {
				t.Fatalf("replay: %d %s", again.Code, again.Body)
			}
		})
	}
	if strings.Contains(e.logs.String(), secret) {
		t.Fatalf("the secret key is logged: %s", e.logs.String())
	}
}
