package orders_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/idem"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// TestWithIdempotencyStore commits the writes the way the checkout path does: Absent as a claim
// guard, Insert with the completion, against both pairs of stores.
func TestWithIdempotencyStore(t *testing.T) {
	pairs := []struct {
		name string
		new  func(t *testing.T) (idem.Store, orders.Store)
	}{
		{"memory", func(*testing.T) (idem.Store, orders.Store) {
			return idem.NewMemoryStore(), orders.NewMemoryStore()
		}},
		{"dynamodb", func(t *testing.T) (idem.Store, orders.Store) {
			c := testenv.DynamoClient(t)
			return idem.NewDynamoStore(c, testenv.Table(t, c, idem.Table("idem"))),
				orders.NewDynamoStore(c, testenv.Table(t, c, orders.Table("orders")))
		}},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			keys, store := p.new(t)
			claim := func(key string, guards ...idem.Write) (idem.Record, error) {
				rec := idem.Record{Key: key, Owner: "owner-" + key, Fingerprint: "fp", CreatedAt: t0,
					LeaseUntil: t0.Add(time.Minute), ExpiresAt: t0.Add(24 * time.Hour)}
				held, err := keys.Claim(ctx, rec, t0, guards...)
				if err == nil && held != nil {
					t.Fatalf("claim %s: held by %+v", key, held)
				}
				return rec, err
			}
			rec, err := claim("k1", store.Absent("ord_1"))
			if err != nil {
				t.Fatal(err)
			}
			rec.Response = &idem.Response{Status: http.StatusCreated, Body: []byte(`{"order_id":"ord_1"}`)}
			if err := keys.Complete(ctx, rec, store.Insert(sample("ord_1"))); err != nil {
				t.Fatal(err)
			}
			if got, err := store.Get(ctx, "ord_1"); err != nil || got != sample("ord_1") {
				t.Fatalf("order after completion = %+v, %v", got, err)
			}

			// Another key naming the same order: the guard refuses the claim.
			if _, err := claim("k2", store.Absent("ord_1")); !errors.Is(err, idem.ErrWriteFailed) {
				t.Fatalf("claim guarded by an existing order = %v, want ErrWriteFailed", err)
			}
			// Without a guard, the completion refuses a second order and stays uncommitted.
			rec3, err := claim("k3")
			if err != nil {
				t.Fatal(err)
			}
			rec3.Response = &idem.Response{Status: http.StatusCreated}
			if err := keys.Complete(ctx, rec3, store.Insert(sample("ord_1"))); !errors.Is(err, idem.ErrWriteFailed) {
				t.Fatalf("completion inserting an existing order = %v, want ErrWriteFailed", err)
			}
			if held, err := keys.Get(ctx, "k3", t0); err != nil || held == nil || held.Status != idem.InProgress {
				t.Fatalf("record k3 after the failed completion = %+v, %v, want still in progress", held, err)
			}
			if n, err := store.Count(ctx); err != nil || n != 1 {
				t.Fatalf("Count = %d, %v, want 1", n, err)
			}
		})
	}
}
