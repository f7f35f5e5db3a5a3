package reconcile_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/reconcile"
	"github.com/checkout-idem/checkout/internal/stock"
)

// TestAbandonCancelsThenPutsTheUnitsBack: an order whose buyer never confirmed is canceled at
// the provider first, then abandoned with its units back in stock; a payment that the cancel
// finds already made settles the order paid, its units sold.
func TestAbandonCancelsThenPutsTheUnitsBack(t *testing.T) {
	ctx := context.Background()
	units := stock.NewMemory()
	units.PutBack([]stock.Draw{{SKU: "tee", Units: 4}})
	store, fake := orders.NewMemoryStore().WithStock(units), newFake()
	for _, id := range []string{"idle", "late"} {
		o := order(id, orders.Created, "", time.Hour, 48*time.Hour)
		o.CartID, o.Lines = "", []orders.Line{{SKU: "tee", Name: "Tee", UnitPrice: 2100, Quantity: 2}}
		if _, err := store.Reserve(ctx, o, map[string]int{"tee": 1}); err != nil {
			t.Fatal(err)
		}
	}
	fake.hold("idle", intent("pi_idle", payment.Pending), true)
	fake.hold("late", intent("pi_late", payment.Succeeded), true)
	rc := reconcile.New(reconcile.Options{Orders: store, Payments: fake, Logger: slog.New(slog.DiscardHandler)})
	if _, err := rc.Run(ctx, now); err != nil {
		t.Fatal(err)
	}
	idle, _ := store.Get(ctx, "idle")
	late, _ := store.Get(ctx, "late")
	if idle.Status != orders.Abandoned || idle.Units != orders.Released || late.Status != orders.Paid || late.Units != orders.Held {
		t.Fatalf("idle %s/%s, late %s/%s; want abandoned/released and paid/held", idle.Status, idle.Units, late.Status, late.Units)
	}
	if in, _ := fake.Retrieve(ctx, "pi_idle"); in.Outcome != payment.Canceled {
		t.Fatalf("the idle intent is %s, want canceled before its units went back", in.Outcome)
	}
	if got := units.Units(stock.ShardKey("tee", 0)); got != 2 {
		t.Fatalf("%d units left, want 2 (the abandoned order's back, the paid one's sold)", got)
	}
}

// TestAPaymentAfterTheUnitsWereSoldIsRefundedOnce: the webhook applied a payment whose units had
// gone back and been sold; the reconciler refunds it once (two runs, one refund key) and marks it
// refunded for want of stock.
func TestAPaymentAfterTheUnitsWereSoldIsRefundedOnce(t *testing.T) {
	ctx := context.Background()
	units := stock.NewMemory()
	units.PutBack([]stock.Draw{{SKU: "tee", Units: 2}})
	store := orders.NewMemoryStore().WithStock(units)
	local := payment.NewLocal()
	in, err := local.CreatePayment(ctx, payment.Request{OrderID: "gone", Amount: 4200, Currency: "eur", PaymentMethod: "pm_card_visa", IdempotencyKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"gone", "other"} {
		o := order(id, orders.Created, "", time.Hour, time.Hour)
		o.CartID, o.Lines = "", []orders.Line{{SKU: "tee", Name: "Tee", UnitPrice: 2100, Quantity: 2}}
		if _, err := store.Reserve(ctx, o, map[string]int{"tee": 1}); err != nil {
			t.Fatal(err)
		}
		if id == "gone" { // declined first: its units go back and "other" buys them
			if _, err := store.Apply(ctx, id, orders.Change{To: orders.Failed, IntentID: in.ID, Amount: 4200, Currency: "eur", Now: now.Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	a, err := store.Apply(ctx, "gone", orders.Change{To: orders.Paid, IntentID: in.ID, Amount: 4200, Currency: "eur", Now: now.Add(-time.Hour)})
	if err != nil || !a.Unstocked {
		t.Fatalf("the late payment = %+v, %v; want unstocked", a, err)
	}
	rc := reconcile.New(reconcile.Options{Orders: store, Payments: local, Logger: slog.New(slog.DiscardHandler)})
	for range 2 {
		if _, err := rc.Run(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := store.Get(ctx, "gone")
	if got.Status != orders.Refunded || got.RefundReason != orders.ReasonOutOfStock || got.AmountRefunded != 4200 || local.Refunds() != 1 {
		t.Fatalf("order %s (%s, %d refunded), %d refunds; want refunded out_of_stock once", got.Status, got.RefundReason, got.AmountRefunded, local.Refunds())
	}
}
