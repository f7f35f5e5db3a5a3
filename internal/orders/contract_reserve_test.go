package orders_test

import (
	"errors"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/stock"
)

// one shard for the sample's tee.
var teeShards = map[string]int{"tee": 1}

func reserve(t *testing.T, h harness, o orders.Order, shards map[string]int) orders.Order {
	t.Helper()
	got, err := h.store.Reserve(t.Context(), o, shards)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// reserved is o as Reserve stores it from one shard.
func reserved(o orders.Order) orders.Order {
	o.Status, o.Units, o.PaymentIntentID, o.AmountRefunded = orders.Created, orders.Held, "", 0
	o.Lines = []orders.Line{o.Lines[0]}
	o.Lines[0].Shards = 1
	o.Draws = []stock.Draw{{SKU: "tee", Shard: 0, Units: o.Lines[0].Quantity}}
	return o
}

func wantUnits(t *testing.T, h harness, sku string, want ...int) {
	t.Helper()
	for n, w := range want {
		if got := h.units(t, sku, n); got != w {
			t.Fatalf("shard %d of %s holds %d units, want %d", n, sku, got, w)
		}
	}
}

var reserveSettle = []struct {
	name string
	run  func(*testing.T, harness)
}{
	{"reserve on an absent order creates it, created with its units taken", func(t *testing.T, h harness) {
		h.load(t, "tee", 5)
		o := sample("b")
		o.Status, o.PaymentIntentID = orders.Paid, "pi_ignored" // Reserve always writes created, no intent
		got := reserve(t, h, o, teeShards)
		want := reserved(sample("b"))
		assertOrder(t, h, want)
		if got.Units != orders.Held || len(got.Draws) != 1 || got.Draws[0] != want.Draws[0] {
			t.Fatalf("Reserve returned %+v", got)
		}
		wantUnits(t, h, "tee", 3)
	}},
	{"a repeated reserve of the same purchase takes nothing and returns the stored order", func(t *testing.T, h harness) {
		h.load(t, "tee", 5)
		reserve(t, h, sample("r"), teeShards)
		retry := sample("r")
		retry.CreatedAt, retry.UpdatedAt, retry.ProviderKey = t0.Add(time.Minute), t0.Add(time.Minute), "checkout-other"
		got := reserve(t, h, retry, teeShards)
		if got.CreatedAt != t0 || got.ProviderKey != "checkout-r" {
			t.Fatalf("a retry replaced the stored order: %+v", got)
		}
		assertOrder(t, h, reserved(sample("r")))
		wantUnits(t, h, "tee", 3)
	}},
	{"reserve for another purchase fails and keeps the order and the stock", func(t *testing.T, h harness) {
		h.load(t, "tee", 50)
		reserve(t, h, sample("rp"), teeShards)
		for name, change := range map[string]func(*orders.Order){
			"quantity": func(x *orders.Order) { x.Lines[0].Quantity, x.Amount = 3, 6300 },
			"currency": func(x *orders.Order) { x.Currency = "usd" }, "e-mail": func(x *orders.Order) { x.CustomerEmail = "" },
			"payment method": func(x *orders.Order) { x.PaymentMethod = "pm_card_mastercard" },
			"price":          func(x *orders.Order) { x.Lines[0].UnitPrice, x.Amount = 2000, 4000 },
		} {
			other := sample("rp")
			other.Lines = append([]orders.Line(nil), other.Lines...)
			change(&other)
			if _, err := h.store.Reserve(t.Context(), other, teeShards); !errors.Is(err, orders.ErrConflict) {
				t.Fatalf("Reserve with another %s = %v, want ErrConflict", name, err)
			}
		}
		assertOrder(t, h, reserved(sample("rp")))
		wantUnits(t, h, "tee", 48)
	}},
	{"too few units: a ShortError naming the sku, nothing written, nothing taken", func(t *testing.T, h harness) {
		h.load(t, "tee", 1)
		_, err := h.store.Reserve(t.Context(), sample("s"), teeShards)
		var short *stock.ShortError
		if !errors.As(err, &short) || len(short.SKUs) != 1 || short.SKUs[0] != "tee" || !errors.Is(err, stock.ErrShort) {
			t.Fatalf("Reserve = %v, want a ShortError for tee", err)
		}
		if _, err := h.store.Get(t.Context(), "s"); !errors.Is(err, orders.ErrNotFound) {
			t.Fatalf("a short reserve stored an order: %v", err)
		}
		wantUnits(t, h, "tee", 1)
	}},
	{"an absent sku has no units", func(t *testing.T, h harness) {
		if _, err := h.store.Reserve(t.Context(), sample("ab"), teeShards); !errors.Is(err, stock.ErrShort) {
			t.Fatalf("Reserve = %v, want ErrShort", err)
		}
	}},
	{"a purchase moves on to other shards when its own runs short", func(t *testing.T, h harness) {
		h.load(t, "tee", 1, 0, 1)
		got := reserve(t, h, sample("m"), map[string]int{"tee": 3})
		if stock.Total(got.Draws) != 2 || len(got.Draws) != 2 {
			t.Fatalf("draws %+v, want 2 units from 2 shards", got.Draws)
		}
		wantUnits(t, h, "tee", 0, 0, 0)
		if _, err := h.store.Reserve(t.Context(), sample("m2"), map[string]int{"tee": 3}); !errors.Is(err, stock.ErrShort) {
			t.Fatalf("Reserve with every shard empty = %v, want ErrShort", err)
		}
	}},
	{"release puts the units back once and a retry takes them again", func(t *testing.T, h harness) {
		h.load(t, "tee", 4)
		o := reserve(t, h, sample("rl"), teeShards)
		for range 2 {
			if err := h.store.Release(t.Context(), o, t0.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		wantUnits(t, h, "tee", 4)
		if got := get(t, h, "rl"); got.Units != orders.Released || got.Status != orders.Created {
			t.Fatalf("released order %+v", got)
		}
		reserve(t, h, sample("rl"), teeShards)
		wantUnits(t, h, "tee", 2)
		assertOrder(t, h, reserved(sample("rl")))
	}},
	{"reserve on an abandoned order takes its units again, keeping its creation time and key", func(t *testing.T, h harness) {
		h.load(t, "tee", 2)
		reserve(t, h, sample("ab"), teeShards)
		a := apply(t, h, "ab", orders.Change{To: orders.Abandoned, Amount: 4200, Currency: "eur", Now: t0.Add(time.Minute)})
		if a.Order.Units != orders.Released {
			t.Fatalf("abandoned %+v", a.Order)
		}
		wantUnits(t, h, "tee", 2)
		again := sample("ab")
		again.UpdatedAt, again.CreatedAt, again.ProviderKey = t0.Add(time.Hour), t0.Add(time.Hour), "checkout-new"
		got := reserve(t, h, again, teeShards)
		want := reserved(sample("ab"))
		want.UpdatedAt = t0.Add(time.Hour)
		assertOrder(t, h, want)
		if stored := get(t, h, "ab"); !got.CreatedAt.Equal(stored.CreatedAt) || got.ProviderKey != stored.ProviderKey {
			t.Fatalf("Reserve returned created %v and key %q, the stored order has %v and %q", got.CreatedAt, got.ProviderKey, stored.CreatedAt, stored.ProviderKey)
		}
		wantUnits(t, h, "tee", 0)
	}},
	{"reserve on an order in any other state fails and changes nothing", func(t *testing.T, h harness) {
		h.load(t, "tee", 50)
		for _, st := range []orders.Status{orders.Pending, orders.RequiresAction, orders.Failed, orders.Paid, orders.Refunded} {
			o := reserve(t, h, sample("x"+string(st)), teeShards)
			w, err := h.store.Settle(o, st, "pi_1", t0)
			if st == orders.Refunded {
				apply(t, h, o.ID, orders.Change{To: orders.Refunded, IntentID: "pi_1", Amount: 4200, Currency: "eur", AmountRefunded: 4200, Now: t0})
			} else {
				mustCommit(t, h, w, err)
			}
			want := get(t, h, o.ID)
			if _, err := h.store.Reserve(t.Context(), sample(o.ID), teeShards); !errors.Is(err, orders.ErrConflict) {
				t.Fatalf("Reserve on a %s order = %v, want ErrConflict", st, err)
			}
			assertOrder(t, h, want)
		}
		wantUnits(t, h, "tee", 50-2*4) // the failed one's came back
	}},
	{"reserve refuses invalid input with an error, before any write", func(t *testing.T, h harness) {
		h.load(t, "tee", 50)
		bad := []func(*orders.Order){
			func(o *orders.Order) { o.ID = "" },
			func(o *orders.Order) { o.ProviderKey = "" },
			func(o *orders.Order) { o.Amount = 0 },
			func(o *orders.Order) { o.Amount = 4201 },
			func(o *orders.Order) { o.Lines = nil },
			func(o *orders.Order) {
				o.Lines = []orders.Line{{SKU: "tee", Name: "Tee", UnitPrice: 4200, Quantity: 0}}
			},
		}
		for i, mutate := range bad {
			o := sample("bad")
			mutate(&o)
			if _, err := h.store.Reserve(t.Context(), o, teeShards); err == nil || errors.Is(err, orders.ErrConflict) {
				t.Fatalf("case %d: Reserve = %v, want a validation error", i, err)
			}
		}
		if _, err := h.store.Reserve(t.Context(), sample("bad"), map[string]int{"tee": 0}); err == nil {
			t.Fatal("Reserve with 0 shards succeeded")
		}
		wantUnits(t, h, "tee", 50)
	}},
	{"settle moves a reserved order to its outcome, keeping its units; failed puts them back", func(t *testing.T, h harness) {
		h.load(t, "tee", 10)
		o := reserve(t, h, sample("s"), teeShards)
		w, err := h.store.Settle(o, orders.Paid, "pi_s", t0.Add(time.Second))
		mustCommit(t, h, w, err)
		want := reserved(sample("s"))
		want.Status, want.PaymentIntentID, want.UpdatedAt = orders.Paid, "pi_s", t0.Add(time.Second)
		assertOrder(t, h, want)
		f := reserve(t, h, sample("f"), teeShards)
		w, err = h.store.Settle(f, orders.Failed, "pi_f", t0.Add(time.Second))
		mustCommit(t, h, w, err)
		if got := get(t, h, "f"); got.Status != orders.Failed || got.Units != orders.Released {
			t.Fatalf("declined order %+v", got)
		}
		wantUnits(t, h, "tee", 8)
		// A second completion of the decline cannot put them back again.
		w, err = h.store.Settle(f, orders.Failed, "pi_f", t0.Add(time.Second))
		if err != nil || !errors.Is(h.commit(w), errCancelled) {
			t.Fatalf("a second decline's settle = %v, want cancelled", err)
		}
		wantUnits(t, h, "tee", 8)
	}},
	{"settle refuses an order whose units were released", func(t *testing.T, h harness) {
		h.load(t, "tee", 10)
		o := reserve(t, h, sample("sr"), teeShards)
		if err := h.store.Release(t.Context(), o, t0); err != nil {
			t.Fatal(err)
		}
		w, err := h.store.Settle(o, orders.Paid, "pi", t0)
		if err != nil || !errors.Is(h.commit(w), errCancelled) {
			t.Fatalf("settle after release = %v, want cancelled", err)
		}
		wantUnits(t, h, "tee", 10)
	}},
	{"settle at an equal rank succeeds: a webhook came first", func(t *testing.T, h harness) {
		h.load(t, "tee", 10)
		o := reserve(t, h, sample("eq"), teeShards)
		apply(t, h, "eq", orders.Change{To: orders.Paid, IntentID: "pi_eq", Amount: 4200, Currency: "eur", Now: t0})
		w, err := h.store.Settle(o, orders.Paid, "pi_eq", t0.Add(time.Second))
		mustCommit(t, h, w, err)
		if got := get(t, h, "eq"); got.Status != orders.Paid || got.Units != orders.Held {
			t.Fatalf("order %+v, want paid with its units", got)
		}
	}},
	{"settle fails below the stored rank, for another intent, or for an absent order", func(t *testing.T, h harness) {
		o := plain("lo")
		o.Status, o.PaymentIntentID = orders.Paid, "pi_lo"
		mustCreate(t, h, o)
		cases := []struct {
			id     string
			to     orders.Status
			intent string
		}{{"lo", orders.RequiresAction, "pi_lo"}, {"lo", orders.Paid, "pi_other"}, {"ghost", orders.Paid, "pi"}}
		for _, c := range cases {
			w, err := h.store.Settle(plain(c.id), c.to, c.intent, t0.Add(time.Hour))
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
			if w, err := h.store.Settle(sample("s"), to, "pi", t0); !errors.Is(err, orders.ErrInvalidStatus) || w != nil {
				t.Fatalf("Settle to %q = %v, %v, want ErrInvalidStatus", to, w, err)
			}
		}
	}},
}
