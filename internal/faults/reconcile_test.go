package faults_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/reconcile"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// TestKilledCheckoutSettledByTheReconciler: the provider charged, the process "died" holding its
// answer (the call never returns while the reconciler runs), and neither the buyer nor a
// webhook comes back. The order exists from the claim on, in state created; the reconciler,
// ten minutes later, finds the charge by the order's id and marks it paid. The buyer's retry
// much later gets that order, not a second charge.
func TestKilledCheckoutSettledByTheReconciler(t *testing.T) {
	for _, store := range []string{"memory", "dynamodb"} {
		t.Run("on "+store, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			s := memoryStores()
			if store == "dynamodb" {
				s = dynamoStores(t, testenv.DynamoClient(t))
			}
			local := payment.NewLocal()
			provider := &watched{Local: local, held: make(chan struct{})}
			clk := testenv.NewClock(time.Now())
			h := newCheckout(s, local, func(o *checkout.Options) { o.Payments, o.Now = provider, clk.Now })
			local.SetFault(func(payment.Request, int) payment.Fault {
				return payment.Fault{AfterCharge: true, Release: make(chan struct{})} // held for ever
			})
			deadCtx, kill := context.WithCancel(ctx)
			dead := make(chan int, 1)
			go func() { dead <- post(deadCtx, h, "reconciled-1", body("cart-r", 4200)).Code }()
			select {
			case <-provider.held:
			case <-ctx.Done():
				t.Fatal("the request never reached the provider")
			}
			assertCounts(t, s, local, counts{orders: 1, charges: 1, records: 1})

			rc := reconcile.New(reconcile.Options{Orders: s.orders, Payments: local, Logger: quiet})
			later := clk.Now().Add(reconcile.DefaultAfter + time.Minute)
			var rep reconcile.Report
			for rep.Examined == 0 && ctx.Err() == nil { // the index is eventually consistent
				var err error
				if rep, err = rc.Run(ctx, later); err != nil {
					t.Fatal(err)
				}
			}
			if rep.Settled != 1 {
				t.Fatalf("report %+v, want one order settled", rep)
			}
			stuck, err := s.orders.Stuck(ctx, later, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range stuck {
				if o.Status == orders.Paid {
					t.Fatalf("a paid order is still listed as stuck: %+v", o)
				}
			}

			kill() // the dead process's call returns at last; its answer reaches nobody
			<-dead
			clk.Add(reconcile.DefaultAfter + time.Minute)
			retry := post(ctx, h, "reconciled-1", body("cart-r", 4200))
			if retry.Code != http.StatusOK && retry.Code != http.StatusCreated {
				t.Fatalf("the buyer's retry: %d %s", retry.Code, retry.Body)
			}
			res := decode(t, retry)
			o, err := s.orders.Get(ctx, res.OrderID)
			if err != nil || o.Status != orders.Paid || res.Status != orders.Paid || local.Created() != 1 {
				t.Fatalf("order %+v (%v), answer %+v, %d charges; want paid once", o, err, res, local.Created())
			}
			if n, _ := s.orders.Count(ctx); n != 1 {
				t.Fatalf("%d orders, want 1", n)
			}
		})
	}
}
