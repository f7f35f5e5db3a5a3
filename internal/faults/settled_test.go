package faults_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/reconcile"
	"github.com/checkout-idem/checkout/internal/webhook"
)

// TestKilledChargeSettledWithoutTheBuyer kills a checkout while the provider holds its answer:
// the charge exists, the process never completes, and the buyer never retries. The order exists
// all the same, in state created, from the claim on (it was written with the claim, before any
// money moved). Then either the provider's payment_intent.succeeded webhook settles it, or, with
// no webhook at all, the reconciler does. Exact counts: one order, one charge, and a later retry
// of the key gets that order, never a second charge. A third case lets the held request go on
// after the webhook settled its order (Stripe's event can beat the checkout's own completion):
// the completion settles the order at the same rank and its 201 is stored.
func TestKilledChargeSettledWithoutTheBuyer(t *testing.T) {
	for _, store := range []string{"memory", "dynamodb"} {
		for _, by := range []string{"webhook", "reconciler", "webhook, and then the held request completes"} {
			t.Run("on "+store+", settled by the "+by, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
				defer cancel()
				s := storesOn(t, store)
				local := payment.NewLocal()
				provider := &watched{Local: local, held: make(chan struct{})}
				h := newCheckout(s, local, func(o *checkout.Options) { o.Payments = provider })
				release := make(chan struct{}) // closed only when the held request may complete
				local.SetFault(func(_ payment.Request, attempt int) payment.Fault {
					if attempt > 1 {
						return payment.Fault{}
					}
					return payment.Fault{AfterCharge: true, Release: release} // held
				})

				const key = "killed-settled"
				req := body(2)
				stuckCtx, kill := context.WithCancel(ctx)
				stuck := make(chan *httptest.ResponseRecorder, 1)
				go func() { stuck <- post(stuckCtx, h, key, req) }()
				provider.awaitHeld(t, ctx, "the checkout never reached the provider")
				id := checkout.OrderID(idem.ScopedKey(checkout.Scope, "", key))
				o, err := s.orders.Get(ctx, id)
				if err != nil || o.Status != orders.Created || o.Amount != 2*teePrice || o.PaymentIntentID != "" {
					t.Fatalf("order while the charge is held: %+v, %v; want created, no intent yet", o, err)
				}
				assertCounts(t, s, local, counts{orders: 1, charges: 1, records: 1})
				intent, err := local.FindByOrder(ctx, id)
				if err != nil || intent == nil {
					t.Fatalf("the held charge: %v, %v", intent, err)
				}

				switch by {
				case "webhook", "webhook, and then the held request completes":
					secret := webhook.NewSecret()
					verifier, err := webhook.NewStripeVerifier([]string{secret}, 0)
					if err != nil {
						t.Fatal(err)
					}
					wh := webhook.NewHandler(webhook.Options{Stripe: verifier, Orders: s.orders, Idem: s.keys, Logger: quiet})
					ev := stripeEvent("evt_settle_1", intent.ID, id, 2*teePrice, "usd", time.Now())
					r := httptest.NewRequestWithContext(ctx, http.MethodPost, webhook.Path, bytes.NewReader(ev))
					r.Header.Set("Content-Type", "application/json")
					r.Header.Set(webhook.StripeSignatureHeader, webhook.SignStripe(secret, time.Now(), ev))
					w := httptest.NewRecorder()
					wh.ServeHTTP(w, r)
					if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte(`"applied":true`)) {
						t.Fatalf("the webhook: %d %s, want 200 applied", w.Code, w.Body)
					}
				case "reconciler":
					rc := reconcile.New(reconcile.Options{Orders: s.orders, Payments: local, Logger: quiet})
					rep, err := rc.Run(ctx, time.Now().Add(reconcile.DefaultAfter+time.Minute))
					if err != nil || rep.Settled != 1 {
						t.Fatalf("reconciler: %+v, %v; want 1 settled", rep, err)
					}
				}
				if o, err := s.orders.Get(ctx, id); err != nil || o.Status != orders.Paid || o.PaymentIntentID != intent.ID {
					t.Fatalf("order after the %s: %+v, %v; want paid with %s", by, o, err, intent.ID)
				}

				if by == "webhook, and then the held request completes" {
					// The provider's event came first (Stripe sends it at once); the completion
					// that follows settles the order at the same rank and stores its 201.
					close(release)
					late := <-stuck
					if res := decode(t, late); late.Code != http.StatusCreated || res.Status != orders.Paid || res.PaymentIntentID != intent.ID {
						t.Fatalf("the held request: %d %s, want 201 paid", late.Code, late.Body)
					}
					kill()
				} else {
					kill() // the process is gone for good; whatever it answers nobody hears
					<-stuck
				}
				again := post(ctx, h, key, req)
				res := decode(t, again)
				if by == "webhook, and then the held request completes" {
					if again.Code != http.StatusCreated || !replayed(again) || res.Status != orders.Paid {
						t.Fatalf("the retry: %d %s, want the stored 201 replayed", again.Code, again.Body)
					}
				} else if again.Code != http.StatusOK || res.OrderID != id || res.Status != orders.Paid || res.PaymentIntentID != intent.ID {
					t.Fatalf("the buyer's late retry: %d %s, want 200 with the paid order", again.Code, again.Body)
				}
				if local.Created() != 1 || s.counts(t, local).orders != 1 {
					t.Fatalf("%d charges, %d orders; want 1 and 1", local.Created(), s.counts(t, local).orders)
				}
			})
		}
	}
}
