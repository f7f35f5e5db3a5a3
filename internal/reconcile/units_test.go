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
