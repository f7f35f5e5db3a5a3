package orders_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/stock"
	"github.com/checkout-idem/checkout/internal/testenv"
)

func teeChange(to orders.Status, d time.Duration) orders.Change {
	return orders.Change{To: to, IntentID: "pi_t", Amount: 4200, Currency: "eur", Now: t0.Add(d)}
}

var unitsCases = []struct {
	name string
	run  func(*testing.T, harness)
}{
	{"failed and abandoned put the units back exactly once", func(t *testing.T, h harness) {
		h.load(t, "tee", 4)
		for _, to := range []orders.Status{orders.Failed, orders.Abandoned} {
			id := "u" + string(to)
			reserve(t, h, sample(id), teeShards)
			for range 2 {
				apply(t, h, id, teeChange(to, time.Minute))
			}
			if got := get(t, h, id); got.Status != to || got.Units != orders.Released {
				t.Fatalf("order %+v, want %s with its units released", got, to)
			}
		}
		wantUnits(t, h, "tee", 4)
	}},
	{"a payment after the units went back takes them again", func(t *testing.T, h harness) {
		h.load(t, "tee", 0, 3)
		reserve(t, h, sample("late"), map[string]int{"tee": 2})
		apply(t, h, "late", teeChange(orders.Abandoned, time.Minute))
		wantUnits(t, h, "tee", 0, 3)
		a := apply(t, h, "late", teeChange(orders.Paid, 2*time.Minute))
		if a.Unstocked || a.Order.Status != orders.Paid || a.Order.Units != orders.Held || stock.Total(a.Order.Draws) != 2 {
			t.Fatalf("Applied %+v, want paid holding 2 units", a)
		}
		if got := get(t, h, "late"); got.Units != orders.Held || stock.Total(got.Draws) != 2 {
			t.Fatalf("stored %+v", got)
		}
		wantUnits(t, h, "tee", 0, 1)
	}},
	{"a payment after the units went back and were sold is recorded unstocked", func(t *testing.T, h harness) {
		h.load(t, "tee", 2)
		reserve(t, h, sample("gone"), teeShards)
		apply(t, h, "gone", teeChange(orders.Failed, time.Minute))
		reserve(t, h, sample("other"), teeShards) // the units are sold again
		a := apply(t, h, "gone", teeChange(orders.Paid, 2*time.Minute))
		if !a.Unstocked || !a.Changed || a.Order.Status != orders.Paid || a.Order.Units != orders.Released {
			t.Fatalf("Applied %+v, want paid, unstocked", a)
		}
		if again := apply(t, h, "gone", teeChange(orders.Paid, 3*time.Minute)); again.Changed {
			t.Fatalf("a repeated payment changed the order: %+v", again)
		}
		testenv.Eventually(t, func() error { // listed for the reconciler, which refunds it
			got, err := h.store.Stuck(t.Context(), t0.Add(time.Hour), 10)
			if err != nil || !slices.ContainsFunc(got, func(o orders.Order) bool { return o.ID == "gone" }) {
				return fmt.Errorf("Stuck = %d orders, %v; want the unstocked order", len(got), err)
			}
			return nil
		})
		r := apply(t, h, "gone", orders.Change{To: orders.Refunded, IntentID: "pi_t", Amount: 4200, Currency: "eur",
			AmountRefunded: 4200, Reason: orders.ReasonOutOfStock, Now: t0.Add(4 * time.Minute)})
		if r.Order.Status != orders.Refunded || r.Order.RefundReason != orders.ReasonOutOfStock {
			t.Fatalf("refunded %+v", r.Order)
		}
		if got := get(t, h, "gone"); got.RefundReason != orders.ReasonOutOfStock {
			t.Fatalf("stored %+v", got)
		}
		wantUnits(t, h, "tee", 0)
	}},
	{"a decline, a release and the reconciler racing put the units back once", func(t *testing.T, h harness) {
		h.load(t, "tee", 20)
		for i := range 5 {
			id := fmt.Sprintf("race%d", i)
			o := reserve(t, h, sample(id), teeShards)
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Go(func() {
					var err error
					switch g % 3 {
					case 0:
						_, err = h.store.Apply(t.Context(), id, teeChange(orders.Failed, time.Minute))
					case 1:
						_, err = h.store.Apply(t.Context(), id, teeChange(orders.Abandoned, time.Minute))
					case 2:
						err = h.store.Release(t.Context(), o, t0.Add(time.Second))
					}
					if err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}
		wantUnits(t, h, "tee", 20)
	}},
	{"50 buyers of the last 10 units: exactly 10 reserve, no shard below zero", func(t *testing.T, h harness) {
		h.load(t, "tee", 2, 2, 2, 2, 2)
		var ok, short atomic.Int32
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				o := sample(fmt.Sprintf("buyer%02d", i))
				o.Lines = []orders.Line{{SKU: "tee", Name: "Tee", UnitPrice: 4200, Quantity: 1}}
				_, err := h.store.Reserve(t.Context(), o, map[string]int{"tee": 5})
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, stock.ErrShort):
					short.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 10 || short.Load() != 40 {
			t.Fatalf("%d reserved, %d short; want 10 and 40", ok.Load(), short.Load())
		}
		wantUnits(t, h, "tee", 0, 0, 0, 0, 0)
	}},
}
