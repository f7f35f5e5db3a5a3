package catalog_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/stock"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// counting counts the Products calls of a store.
type counting struct {
	catalog.Store
	calls atomic.Int64
	skus  atomic.Int64
}

func (c *counting) Products(ctx context.Context, skus []string) (map[string]catalog.Product, error) {
	c.calls.Add(1)
	c.skus.Add(int64(len(skus)))
	return c.Store.Products(ctx, skus)
}

func TestCacheKeepsPricesForTheTTL(t *testing.T) {
	s := catalog.NewMemoryStore(stock.NewMemory())
	load := func(price int64) {
		p := product("a", 1, 1)
		p.Prices = map[string]int64{"usd": price}
		if _, err := catalog.Load(t.Context(), s, []catalog.Product{p}); err != nil {
			t.Fatal(err)
		}
	}
	load(1000)
	inner := &counting{Store: s}
	clock := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	c := catalog.NewCache(inner, 5*time.Second, clock.Now)
	price := func() int64 {
		t.Helper()
		ps, err := c.Products(t.Context(), []string{"a", "missing"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := ps["missing"]; ok || len(ps) != 1 {
			t.Fatalf("Products = %v", ps)
		}
		return ps["a"].Prices["usd"]
	}
	if price() != 1000 {
		t.Fatal("first read")
	}
	load(2000)
	clock.Add(4 * time.Second)
	if got := price(); got != 1000 || inner.calls.Load() != 1 {
		t.Fatalf("within the TTL: price %d after %d reads, want the cached 1000 after 1", got, inner.calls.Load())
	}
	clock.Add(time.Second)
	if got := price(); got != 2000 || inner.calls.Load() != 2 || inner.skus.Load() != 4 {
		t.Fatalf("after the TTL: price %d after %d reads of %d skus, want 2000 after 2 reads of both skus", got, inner.calls.Load(), inner.skus.Load())
	}
	ps, _ := c.Products(t.Context(), []string{"a"})
	ps["a"].Prices["usd"] = 1 // a caller's change does not reach the cache
	if price() != 2000 {
		t.Fatal("the cache shares its maps with callers")
	}
}

func TestCacheIsSafeForConcurrentUse(t *testing.T) {
	s := catalog.NewMemoryStore(stock.NewMemory())
	if _, err := catalog.Load(t.Context(), s, catalog.Sample()); err != nil {
		t.Fatal(err)
	}
	clock := testenv.NewClock(time.Now())
	c := catalog.NewCache(s, time.Second, clock.Now)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range 100 {
				clock.Add(10 * time.Millisecond)
				ps, err := c.Products(context.Background(), []string{"tee-black-m", "mug-enamel", "nope"})
				if err != nil || len(ps) != 2 || ps["tee-black-m"].Prices["usd"] != 2500 {
					t.Errorf("Products = %v, %v", ps, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if _, err := c.Get(t.Context(), "tee-black-m"); err != nil {
		t.Fatal(err)
	}
	if l, err := c.List(t.Context()); err != nil || len(l) != 6 {
		t.Fatalf("List = %d, %v", len(l), err)
	}
}
