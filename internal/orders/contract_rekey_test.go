package orders_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/orders"
)

var rekeyCases = []struct {
	name string
	run  func(*testing.T, harness)
}{
	{"rekey records the new provider key and when, only from the key it replaces", func(t *testing.T, h harness) {
		ctx := context.Background()
		h.load(t, "tee", 2)
		o := reserve(t, h, sample("rk"), teeShards)
		at := t0.Add(3 * time.Minute)
		if err := h.store.Rekey(ctx, o.ID, o.ProviderKey, o.ProviderKey+"/2", at); err != nil {
			t.Fatal(err)
		}
		if err := h.store.Rekey(ctx, o.ID, o.ProviderKey, o.ProviderKey+"/3", at); !errors.Is(err, orders.ErrConflict) {
			t.Fatalf("rekey from a replaced key = %v, want ErrConflict", err)
		}
		want := o
		want.ProviderKey, want.ProviderKeyAt = o.ProviderKey+"/2", at
		assertOrder(t, h, want)
		reserve(t, h, sample("rk"), teeShards) // a takeover keeps the key in use and its time
		assertOrder(t, h, want)
	}},
	{"rekey refuses an order that is no longer created, and an unknown one", func(t *testing.T, h harness) {
		ctx := context.Background()
		o := sample("rp")
		o.Status, o.PaymentIntentID = orders.Paid, "pi_1"
		mustCreate(t, h, o)
		if err := h.store.Rekey(ctx, o.ID, o.ProviderKey, "k2", t0); !errors.Is(err, orders.ErrConflict) {
			t.Fatalf("rekey of a paid order = %v, want ErrConflict", err)
		}
		if err := h.store.Rekey(ctx, "ord_none", "a", "b", t0); !errors.Is(err, orders.ErrNotFound) {
			t.Fatalf("rekey of an unknown order = %v, want ErrNotFound", err)
		}
	}},
}
