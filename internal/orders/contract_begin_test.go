package orders_test

import (
	"errors"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/orders"
)

var beginSettle = []struct {
	name string
	run  func(*testing.T, harness)
}{
	{"begin on an absent order creates it in state created", func(t *testing.T, h harness) {
		o := sample("b")
		o.Status, o.PaymentIntentID = orders.Paid, "pi_ignored" // Begin always writes created, no intent
		w, err := h.store.Begin(o)
		mustCommit(t, h, w, err)
		o.Status, o.PaymentIntentID = orders.Created, ""
		assertOrder(t, h, o)
	}},
	{"begin on a created order resets it, keeping its creation time and provider key", func(t *testing.T, h harness) {
		w, err := h.store.Begin(sample("r"))
		mustCommit(t, h, w, err)
		retry := sample("r")
		retry.CreatedAt, retry.UpdatedAt = t0.Add(time.Minute), t0.Add(time.Minute)
		retry.ProviderKey = "checkout-other"
		w, err = h.store.Begin(retry)
		mustCommit(t, h, w, err)
		want := retry
		want.CreatedAt, want.ProviderKey = t0, "checkout-r"
		assertOrder(t, h, want)
	}},
	{"begin on a created order for other parameters fails and keeps the order", func(t *testing.T, h harness) {
		o := sample("rp")
		w, err := h.store.Begin(o)
		mustCommit(t, h, w, err)
		for name, change := range map[string]func(*orders.Order){
			"amount": func(x *orders.Order) { x.Amount++ }, "cart": func(x *orders.Order) { x.CartID += "x" },
			"currency": func(x *orders.Order) { x.Currency = "usd" }, "e-mail": func(x *orders.Order) { x.CustomerEmail = "" },
			"payment method": func(x *orders.Order) { x.PaymentMethod = "pm_card_mastercard" },
		} {
			other := sample("rp")
			change(&other)
			w, err := h.store.Begin(other)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.commit(w); !errors.Is(err, errCancelled) {
				t.Fatalf("Begin with another %s = %v, want cancelled", name, err)
			}
		}
		assertOrder(t, h, o)
	}},
	{"begin on an abandoned order starts it again from created", func(t *testing.T, h harness) {
		o := sample("ab")
		o.Status, o.PaymentIntentID = orders.Abandoned, "pi_canceled"
		mustCreate(t, h, o)
		again := sample("ab")
		again.UpdatedAt = t0.Add(time.Hour)
		w, err := h.store.Begin(again)
		mustCommit(t, h, w, err)
		assertOrder(t, h, again)
	}},
	{"begin on an order in any other state fails and changes nothing", func(t *testing.T, h harness) {
		for _, st := range []orders.Status{orders.Pending, orders.RequiresAction, orders.Failed, orders.Paid, orders.Refunded} {
			o := sample("x" + string(st))
			o.Status, o.PaymentIntentID = st, "pi_1"
			mustCreate(t, h, o)
			retry := sample(o.ID) // the same purchase: only the state refuses it
			w, err := h.store.Begin(retry)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.commit(w); !errors.Is(err, errCancelled) {
				t.Fatalf("Begin on a %s order = %v, want cancelled", st, err)
			}
			assertOrder(t, h, o)
		}
	}},
	{"begin refuses invalid input with an error, not a write", func(t *testing.T, h harness) {
		bad := []func(*orders.Order){
			func(o *orders.Order) { o.ID = "" },
			func(o *orders.Order) { o.ProviderKey = "" },
			func(o *orders.Order) { o.Amount = 0 },
			func(o *orders.Order) { o.Amount = -5 },
		}
		for i, mutate := range bad {
			o := sample("bad")
			mutate(&o)
			if w, err := h.store.Begin(o); err == nil || w != nil {
				t.Fatalf("case %d: Begin = %v, %v, want an error and no write", i, w, err)
			}
		}
	}},
	{"settle moves a created order to its outcome and records the intent", func(t *testing.T, h harness) {
		w, err := h.store.Begin(sample("s"))
		mustCommit(t, h, w, err)
		w, err = h.store.Settle("s", orders.Paid, "pi_s", t0.Add(time.Second))
		mustCommit(t, h, w, err)
		want := sample("s")
		want.Status, want.PaymentIntentID, want.UpdatedAt = orders.Paid, "pi_s", t0.Add(time.Second)
		assertOrder(t, h, want)
	}},
	{"settle at an equal rank succeeds: a webhook came first", func(t *testing.T, h harness) {
		o := sample("eq")
		o.Status, o.PaymentIntentID = orders.Paid, "pi_eq"
		mustCreate(t, h, o)
		w, err := h.store.Settle("eq", orders.Paid, "pi_eq", t0.Add(time.Second))
		mustCommit(t, h, w, err)
		if got := get(t, h, "eq"); got.Status != orders.Paid {
			t.Fatalf("status %s, want paid", got.Status)
		}
	}},
	{"settle fails below the stored rank, for another intent, or for an absent order", func(t *testing.T, h harness) {
		o := sample("lo")
		o.Status, o.PaymentIntentID = orders.Paid, "pi_lo"
		mustCreate(t, h, o)
		cases := []struct {
			id     string
			to     orders.Status
			intent string
		}{{"lo", orders.RequiresAction, "pi_lo"}, {"lo", orders.Paid, "pi_other"}, {"ghost", orders.Paid, "pi"}}
		for _, c := range cases {
			w, err := h.store.Settle(c.id, c.to, c.intent, t0.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if err := h.commit(w); !errors.Is(err, errCancelled) {
				t.Fatalf("Settle(%s, %s, %s) = %v, want cancelled", c.id, c.to, c.intent, err)
			}
		}
		assertOrder(t, h, o)
		if _, err := h.store.Get(t.Context(), "ghost"); !errors.Is(err, orders.ErrNotFound) {
			t.Fatalf("Settle created an order: %v", err)
		}
	}},
	{"settle to created, abandoned or refunded is an error", func(t *testing.T, h harness) {
		for _, to := range []orders.Status{orders.Created, orders.Abandoned, orders.Refunded, "shipped"} {
			if w, err := h.store.Settle("s", to, "pi", t0); !errors.Is(err, orders.ErrInvalidStatus) || w != nil {
				t.Fatalf("Settle to %q = %v, %v, want ErrInvalidStatus", to, w, err)
			}
		}
	}},
}
