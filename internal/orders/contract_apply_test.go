package orders_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// change is a change for sample(id)'s amount and currency.
func change(to orders.Status, intent string, at time.Duration) orders.Change {
	return orders.Change{To: to, IntentID: intent, Amount: 4200, Currency: "eur", Now: t0.Add(at)}
}

func apply(t *testing.T, h harness, id string, c orders.Change) orders.Applied {
	t.Helper()
	a, err := h.store.Apply(context.Background(), id, c)
	if err != nil {
		t.Fatalf("Apply(%s, %+v) = %v", id, c, err)
	}
	return a
}

// withIntent creates sample(id) in status st with intent pi.
func withIntent(t *testing.T, h harness, id string, st orders.Status, pi string) orders.Order {
	o := sample(id)
	o.Status, o.PaymentIntentID = st, pi
	mustCreate(t, h, o)
	return o
}

var applyCases = []struct {
	name string
	run  func(*testing.T, harness)
}{
	{"an event for the order's intent moves it up and reports the new order", func(t *testing.T, h harness) {
		withIntent(t, h, "p", orders.Created, "pi_p")
		a := apply(t, h, "p", change(orders.Paid, "pi_p", time.Minute))
		want := sample("p")
		want.Status, want.PaymentIntentID, want.UpdatedAt = orders.Paid, "pi_p", t0.Add(time.Minute)
		if !a.Changed || !reflect.DeepEqual(a.Order, want) {
			t.Fatalf("Applied = %+v, want changed and %+v", a, want)
		}
		assertOrder(t, h, want)
	}},
	{"an order without an intent takes the first with its amount and currency", func(t *testing.T, h harness) {
		mustCreate(t, h, sample("n"))
		if a := apply(t, h, "n", change(orders.RequiresAction, "pi_n", time.Second)); !a.Changed || a.Order.PaymentIntentID != "pi_n" {
			t.Fatalf("Applied = %+v, want changed with pi_n", a)
		}
		if got := get(t, h, "n"); got.PaymentIntentID != "pi_n" || got.Status != orders.RequiresAction {
			t.Fatalf("stored %+v", got)
		}
	}},
	{"a foreign intent is refused and changes nothing", func(t *testing.T, h harness) {
		o := withIntent(t, h, "f", orders.Created, "pi_f")
		mustCreate(t, h, sample("g")) // no intent yet
		cases := []struct {
			id string
			c  orders.Change
		}{
			{"f", change(orders.Paid, "pi_other", time.Minute)},
			{"g", orders.Change{To: orders.Paid, IntentID: "pi_g", Amount: 4201, Currency: "eur", Now: t0}},
			{"g", orders.Change{To: orders.Paid, IntentID: "pi_g", Amount: 4200, Currency: "usd", Now: t0}},
		}
		for _, c := range cases {
			a, err := h.store.Apply(context.Background(), c.id, c.c)
			if !errors.Is(err, orders.ErrForeignIntent) || a.Changed {
				t.Fatalf("Apply(%s, %+v) = %+v, %v, want ErrForeignIntent", c.id, c.c, a, err)
			}
		}
		assertOrder(t, h, o)
		assertOrder(t, h, sample("g"))
	}},
	{"the rank never goes down: an older event changes nothing", func(t *testing.T, h harness) {
		o := withIntent(t, h, "old", orders.Paid, "pi_old")
		for _, to := range []orders.Status{orders.Pending, orders.RequiresAction, orders.Failed, orders.Abandoned, orders.Paid} {
			if a := apply(t, h, "old", change(to, "pi_old", time.Hour)); a.Changed || !reflect.DeepEqual(a.Order, o) {
				t.Fatalf("Apply %s on a paid order = %+v, want unchanged", to, a)
			}
		}
		assertOrder(t, h, o)
	}},
	{"failed may still become paid", func(t *testing.T, h harness) {
		withIntent(t, h, "fp", orders.Failed, "pi_fp")
		if a := apply(t, h, "fp", change(orders.Paid, "pi_fp", time.Minute)); !a.Changed {
			t.Fatal("failed -> paid did not apply")
		}
	}},
	{"a partial refund keeps the status, then a full one refunds; amount_refunded never falls", func(t *testing.T, h harness) {
		withIntent(t, h, "rf", orders.Paid, "pi_rf")
		refund := func(n int64, at time.Duration) orders.Applied {
			c := change(orders.Refunded, "pi_rf", at)
			c.AmountRefunded = n
			return apply(t, h, "rf", c)
		}
		steps := []struct {
			amount  int64
			changed bool
			status  orders.Status
			stored  int64
		}{
			{1000, true, orders.Paid, 1000},
			{1000, false, orders.Paid, 1000}, // the same event again
			{500, false, orders.Paid, 1000},  // an older event, late
			{3000, true, orders.Paid, 3000},
			{4200, true, orders.Refunded, 4200},
			{3000, false, orders.Refunded, 4200},
			{4200, false, orders.Refunded, 4200},
		}
		for i, s := range steps {
			a := refund(s.amount, time.Duration(i+1)*time.Minute)
			got := get(t, h, "rf")
			if a.Changed != s.changed || got.Status != s.status || got.AmountRefunded != s.stored {
				t.Fatalf("step %d (refund %d): changed %v, stored %s %d; want %v, %s %d",
					i, s.amount, a.Changed, got.Status, got.AmountRefunded, s.changed, s.status, s.stored)
			}
		}
	}},
	{"abandoned applies only to an open order not updated since the guard", func(t *testing.T, h harness) {
		mustCreate(t, h, sample("o1"))
		c := change(orders.Abandoned, "", time.Hour)
		c.UpdatedBefore = t0 // updated at t0: not before it
		if a := apply(t, h, "o1", c); a.Changed {
			t.Fatal("abandoned an order updated at the guard's time")
		}
		c.UpdatedBefore = t0.Add(time.Minute)
		if a := apply(t, h, "o1", c); !a.Changed || a.Order.Status != orders.Abandoned {
			t.Fatalf("Applied = %+v, want abandoned", a)
		}
		// requires_action is open (its buyer never acted: the reconciler canceled the intent);
		// failed is not: it answered, and a retry may still pay.
		withIntent(t, h, "o2", orders.RequiresAction, "pi_o2")
		if a := apply(t, h, "o2", change(orders.Abandoned, "pi_o2", time.Hour)); !a.Changed || a.Order.Status != orders.Abandoned {
			t.Fatalf("Applied = %+v, want an order that requires action abandoned", a)
		}
		withIntent(t, h, "o3", orders.Failed, "pi_o3")
		if a := apply(t, h, "o3", change(orders.Abandoned, "pi_o3", time.Hour)); a.Changed {
			t.Fatal("abandoned a failed order")
		}
	}},
	{"an unknown id is not found, an invalid status refused", func(t *testing.T, h harness) {
		if _, err := h.store.Apply(context.Background(), "ghost", change(orders.Paid, "pi", 0)); !errors.Is(err, orders.ErrNotFound) {
			t.Fatalf("Apply = %v, want ErrNotFound", err)
		}
		for _, to := range []orders.Status{"shipped", orders.Created} {
			if _, err := h.store.Apply(context.Background(), "ghost", change(to, "pi", 0)); !errors.Is(err, orders.ErrInvalidStatus) {
				t.Fatalf("Apply %q = %v, want ErrInvalidStatus", to, err)
			}
		}
	}},
	{"racing events end at the highest status", func(t *testing.T, h harness) {
		withIntent(t, h, "race", orders.Created, "pi_race")
		targets := []orders.Status{orders.Pending, orders.RequiresAction, orders.Failed, orders.Paid}
		var wg sync.WaitGroup
		var mu sync.Mutex
		changes := 0
		for i := range 16 {
			wg.Go(func() {
				a, err := h.store.Apply(context.Background(), "race", change(targets[i%len(targets)], "pi_race", time.Duration(i)*time.Second))
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				if a.Changed {
					changes++
				}
			})
		}
		wg.Wait()
		if got := get(t, h, "race"); got.Status != orders.Paid {
			t.Fatalf("final %s, want paid", got.Status)
		}
		if changes < 1 || changes > len(targets) {
			t.Fatalf("%d applies changed the order, want 1 to %d", changes, len(targets))
		}
	}},
	{"stuck lists open orders updated before the time, created first, then pending, then requires_action, oldest first, at most limit", func(t *testing.T, h harness) {
		ctx := context.Background()
		for i, st := range []orders.Status{orders.Created, orders.Pending, orders.Paid, orders.Created, orders.Failed, orders.Pending, orders.RequiresAction} {
			o := sample(fmt.Sprint("st", i))
			o.Status, o.UpdatedAt = st, t0.Add(-time.Duration(i)*time.Minute) // st6 is the oldest
			mustCreate(t, h, o)
		}
		young := sample("young") // updated after the cut
		young.UpdatedAt = t0.Add(time.Hour)
		mustCreate(t, h, young)
		ids := func(os []orders.Order) (s []string) {
			for _, o := range os {
				s = append(s, o.ID)
			}
			return s
		}
		testenv.Eventually(t, func() error {
			got, err := h.store.Stuck(ctx, t0.Add(time.Second), 10)
			if err != nil {
				return err
			}
			if fmt.Sprint(ids(got)) != "[st3 st0 st5 st1 st6]" {
				return fmt.Errorf("Stuck = %v, want [st3 st0 st5 st1 st6]", ids(got))
			}
			return nil
		})
		got, err := h.store.Stuck(ctx, t0.Add(time.Second), 2)
		if err != nil || fmt.Sprint(ids(got)) != "[st3 st0]" {
			t.Fatalf("Stuck limit 2 = %v, %v", ids(got), err)
		}
		// Settled orders leave the index.
		w, err := h.store.Settle(plain("st5"), orders.Paid, "pi_5", t0)
		mustCommit(t, h, w, err)
		apply(t, h, "st3", change(orders.Failed, "pi_3", 0))
		testenv.Eventually(t, func() error {
			got, err := h.store.Stuck(ctx, t0.Add(time.Second), 10)
			if err != nil || fmt.Sprint(ids(got)) != "[st0 st1 st6]" {
				return fmt.Errorf("Stuck after settling = %v, %v", ids(got), err)
			}
			return nil
		})
	}},
}
