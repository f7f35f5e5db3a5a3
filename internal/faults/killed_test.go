package faults_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// watched passes a payment call to Local with a context that reports the first call of Done.
// Local holds a Fault{AfterCharge: true} call by selecting on Release and ctx.Done() only once
// the payment is processed and stored (before that it reads ctx.Err(), never Done), so the
// report means: the charge exists, and the call is now held as if its process had died.
type watched struct {
	*payment.Local
	once sync.Once
	held chan struct{}
}

func (p *watched) CreatePayment(ctx context.Context, req payment.Request) (payment.Intent, error) {
	return p.Local.CreatePayment(doneWatcher{ctx, func() { p.once.Do(func() { close(p.held) }) }}, req)
}

// awaitHeld waits until the provider holds a charged call, or fails the test with why.
func (p *watched) awaitHeld(t testing.TB, ctx context.Context, why string) {
	t.Helper()
	select {
	case <-p.held:
	case <-ctx.Done():
		t.Fatal(why)
	}
}

type doneWatcher struct {
	context.Context
	onDone func()
}

func (c doneWatcher) Done() <-chan struct{} { c.onDone(); return c.Context.Done() }

// TestProcessKilledAfterTheCharge simulates, in process, a Lambda killed after the provider
// charged and before the checkout completed: its provider call is held after the charge and
// never let go while the test runs, and the clock shared by checkout and idem moves past the
// claim's lease, which is the request's context deadline (as the Lambda's deadline is). The
// retry with the same key takes the claim over, sends the same provider key, gets the same
// PaymentIntent and answers 201. At last the stuck request is either released (its completion
// is refused: it answers the takeover's result) or cancelled (nothing of it is stored).
func TestProcessKilledAfterTheCharge(t *testing.T) {
	const lease = time.Minute // the stuck request's deadline, in wall time and on the clock
	for _, store := range []string{"memory", "dynamodb"} {
		for _, end := range []string{"released", "cancelled"} {
			t.Run("on "+store+", the stuck request "+end+" at last", func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
				defer cancel()
				s := storesOn(t, store)
				local := payment.NewLocal()
				provider := &watched{Local: local, held: make(chan struct{})}
				clk := testenv.NewClock(time.Now()) // the lease is a wall-clock deadline: start the clock there
				h := newCheckout(s, local, func(o *checkout.Options) { o.Payments, o.Now = provider, clk.Now })

				release := make(chan struct{}) // closed only by the "released" ending
				var keys []string
				var mu sync.Mutex
				local.SetFault(func(req payment.Request, attempt int) payment.Fault {
					mu.Lock()
					keys = append(keys, req.IdempotencyKey)
					mu.Unlock()
					if attempt == 1 {
						return payment.Fault{AfterCharge: true, Release: release}
					}
					if n := local.Created(); n != 1 {
						t.Errorf("the retry reached the provider with %d PaymentIntents created, want the stuck one's", n)
					}
					return payment.Fault{}
				})

				const key = "killed-1"
				req := body(1)
				stuckCtx, kill := context.WithDeadline(ctx, clk.Now().Add(lease))
				defer kill()
				stuck := make(chan *httptest.ResponseRecorder, 1)
				go func() { stuck <- post(stuckCtx, h, key, req) }()
				provider.awaitHeld(t, ctx, "the first request never reached the provider")
				// Charged, claimed, not completed: the order exists from the claim on, in state created.
				assertCounts(t, s, local, counts{orders: 1, charges: 1, records: 1})
				if o, err := s.orders.Get(ctx, checkout.OrderID(idem.ScopedKey(checkout.Scope, "", key))); err != nil || o.Status != orders.Created {
					t.Fatalf("order while the charge is held: %+v, %v; want created", o, err)
				}

				clk.Add(lease + time.Second) // the stuck request's lease has run out
				fast := post(ctx, h, key, req)
				if fast.Code != http.StatusCreated || replayed(fast) {
					t.Fatalf("the retry: %d %v %s, want a fresh 201", fast.Code, fast.Header(), fast.Body)
				}
				res := decode(t, fast)
				if o, err := s.orders.Get(ctx, res.OrderID); err != nil || o.PaymentIntentID != res.PaymentIntentID {
					t.Fatalf("order %+v, %v: want PaymentIntent %s", o, err, res.PaymentIntentID)
				}
				want := checkout.ProviderKey(idem.ScopedKey(checkout.Scope, "", key))
				mu.Lock()
				if len(keys) != 2 || keys[0] != want || keys[1] != want {
					t.Errorf("provider keys %q, want twice %q", keys, want)
				}
				mu.Unlock()

				if end == "released" {
					close(release)
				} else {
					kill()
				}
				late := <-stuck
				switch end {
				case "released": // its completion is refused; it answers the result that counts
					if late.Code != http.StatusCreated || !replayed(late) || late.Body.String() != fast.Body.String() {
						t.Fatalf("the released request answered %d %v %s, want the takeover's %s", late.Code, late.Header(), late.Body, fast.Body)
					}
				case "cancelled": // nobody listens; whatever it answers, it must not be a new result
					if late.Code == http.StatusCreated && !replayed(late) {
						t.Fatalf("the cancelled request answered a fresh 201: %s", late.Body)
					}
				}
				again := post(ctx, h, key, req)
				if again.Code != http.StatusCreated || !replayed(again) || again.Body.String() != fast.Body.String() {
					t.Fatalf("a later retry: %d %s, want the replay of %s", again.Code, again.Body, fast.Body)
				}
				if local.Calls() != 2 {
					t.Fatalf("%d provider calls, want 2 (the stuck one and the takeover)", local.Calls())
				}
				assertCounts(t, s, local, counts{orders: 1, charges: 1, records: 1})
			})
		}
	}
}
