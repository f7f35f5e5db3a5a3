package catalog_test

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/stock"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// store is what the contract needs of an implementation.
type store interface {
	catalog.Store
	catalog.Loader
}

// harness is one implementation under test, with the way a checkout takes units from it.
type harness struct {
	store store
	// take takes d as an order would; a shard too short matches errShort.
	take func(ctx context.Context, d stock.Draw) error
}

var errShort = errors.New("short")

func memoryHarness(*testing.T) harness {
	units := stock.NewMemory()
	return harness{store: catalog.NewMemoryStore(units), take: func(_ context.Context, d stock.Draw) error {
		if err := units.Take([]stock.Draw{d}, nil); errors.Is(err, stock.ErrShort) {
			return errShort
		} else if err != nil {
			return err
		}
		return nil
	}}
}

func dynamoHarness(t *testing.T) harness {
	c := testenv.DynamoClient(t)
	table := testenv.Table(t, c, catalog.Table("catalog"))
	return harness{store: catalog.NewDynamoStore(c, table), take: func(ctx context.Context, d stock.Draw) error {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: []types.TransactWriteItem{stock.Take(table, d)}})
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) {
			return errShort
		}
		return err
	}}
}

var harnesses = []struct {
	name string
	new  func(*testing.T) harness
}{{"memory", memoryHarness}, {"dynamodb", dynamoHarness}}

func TestStoreContract(t *testing.T) {
	for _, h := range harnesses {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range contract {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, h.new(t))
				})
			}
		})
	}
}

func product(sku string, stockUnits, shards int) catalog.Product {
	return catalog.Product{SKU: sku, Name: "Product " + sku, Prices: map[string]int64{"usd": 2500, "eur": 2300},
		Active: true, Stock: stockUnits, Shards: shards}
}

func load(t *testing.T, h harness, ps ...catalog.Product) catalog.Report {
	t.Helper()
	r, err := catalog.Load(t.Context(), h.store, ps)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func get(t *testing.T, h harness, sku string) catalog.Listing {
	t.Helper()
	l, err := h.store.Get(t.Context(), sku)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func takeN(t *testing.T, h harness, sku string, shard, n int) {
	t.Helper()
	if err := h.take(t.Context(), stock.Draw{SKU: sku, Shard: shard, Units: n}); err != nil {
		t.Fatalf("take %d of %s#%d: %v", n, sku, shard, err)
	}
}

func assertAvailable(t *testing.T, h harness, sku string, want int) {
	t.Helper()
	if l := get(t, h, sku); l.Available != want {
		t.Fatalf("%s: available %d, want %d", sku, l.Available, want)
	}
}

var contract = []struct {
	name string
	run  func(*testing.T, harness)
}{
	{"a loaded product reads back, by Get, List and Products", func(t *testing.T, h harness) {
		r := load(t, h, product("a", 10, 1), product("b", 0, 2))
		if r.Changed() != 2 || !r.Changes[0].Created {
			t.Fatalf("report %+v, want 2 created", r)
		}
		l := get(t, h, "a")
		if !equal(l.Product, product("a", 10, 1)) || l.Available != 10 {
			t.Fatalf("Get = %+v", l)
		}
		all, err := h.store.List(t.Context())
		if err != nil || len(all) != 2 || all[0].SKU != "a" || all[1].SKU != "b" || all[1].Available != 0 || all[0].Available != 10 {
			t.Fatalf("List = %+v, %v", all, err)
		}
		ps, err := h.store.Products(t.Context(), []string{"b", "a", "nope", "a", "a#0", "", "BAD"})
		if err != nil || len(ps) != 2 || !equal(ps["a"], product("a", 10, 1)) || !equal(ps["b"], product("b", 0, 2)) {
			t.Fatalf("Products = %+v, %v; want a and b only", ps, err)
		}
	}},
	{"an unknown sku is not found", func(t *testing.T, h harness) {
		for _, sku := range []string{"nope", "", "a#0", "../x"} {
			if _, err := h.store.Get(t.Context(), sku); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("Get(%q) = %v, want ErrNotFound", sku, err)
			}
		}
		if ps, err := h.store.Products(t.Context(), nil); err != nil || len(ps) != 0 {
			t.Errorf("Products(nil) = %v, %v", ps, err)
		}
	}},
	{"Products reads more than one batch", func(t *testing.T, h harness) {
		var ps []catalog.Product
		var skus []string
		for i := range 130 {
			p := product("p"+string(rune('a'+i/26))+string(rune('a'+i%26)), 1, 1)
			ps, skus = append(ps, p), append(skus, p.SKU)
		}
		load(t, h, ps...)
		got, err := h.store.Products(t.Context(), skus)
		if err != nil || len(got) != 130 {
			t.Fatalf("Products = %d, %v; want 130", len(got), err)
		}
	}},
	{"loading the same file twice changes nothing", func(t *testing.T, h harness) {
		ps := catalog.Sample()
		load(t, h, ps...)
		takeN(t, h, "tee-black-m", 0, 7)
		r := load(t, h, ps...)
		if r.Changed() != 0 || len(r.Unchanged) != len(ps) {
			t.Fatalf("second load %+v, want 0 changed", r)
		}
		assertAvailable(t, h, "tee-black-m", 93)
		assertAvailable(t, h, "hoodie-drop-01", 100)
	}},
	{"a price change updates the product and keeps its units", func(t *testing.T, h harness) {
		load(t, h, product("a", 10, 1))
		takeN(t, h, "a", 0, 3)
		p := product("a", 10, 1)
		p.Prices = map[string]int64{"usd": 2600}
		p.Name = "Renamed"
		r := load(t, h, p)
		if r.Changed() != 1 || !r.Changes[0].Product || r.Changes[0].Units != 0 || r.Changes[0].Available != 7 {
			t.Fatalf("report %+v", r)
		}
		l := get(t, h, "a")
		if !equal(l.Product, p) || l.Available != 7 {
			t.Fatalf("Get = %+v, want %+v with 7 available", l, p)
		}
	}},
	{"a stock increase adds exactly the difference", func(t *testing.T, h harness) {
		load(t, h, product("a", 10, 1))
		takeN(t, h, "a", 0, 4)
		r := load(t, h, product("a", 15, 1))
		if r.Changed() != 1 || r.Changes[0].Units != 5 || r.Changes[0].Available != 11 {
			t.Fatalf("report %+v", r)
		}
		assertAvailable(t, h, "a", 11)
		if got := get(t, h, "a").Stock; got != 15 {
			t.Fatalf("stock = %d, want 15", got)
		}
	}},
	{"a stock decrease removes units only while they are left", func(t *testing.T, h harness) {
		load(t, h, product("a", 10, 1))
		takeN(t, h, "a", 0, 8)
		if _, err := catalog.Load(t.Context(), h.store, []catalog.Product{product("a", 5, 1)}); !errors.Is(err, catalog.ErrStock) {
			t.Fatalf("removing 5 of 2 left: %v, want ErrStock", err)
		}
		assertAvailable(t, h, "a", 2)
		load(t, h, product("a", 8, 1))
		assertAvailable(t, h, "a", 0)
	}},
	{"growing from 1 to 4 shards keeps the total and spreads it", func(t *testing.T, h harness) {
		load(t, h, product("hot", 100, 1))
		takeN(t, h, "hot", 0, 2)
		r := load(t, h, product("hot", 100, 4))
		if r.Changed() != 1 || r.Changes[0].Shards != 4 || r.Changes[0].Was != 1 || r.Changes[0].Available != 98 {
			t.Fatalf("report %+v", r)
		}
		assertAvailable(t, h, "hot", 98)
		// stock.Split(98, 4) = 25 25 24 24: shard 2 gives 24 and no more.
		takeN(t, h, "hot", 2, 24)
		if err := h.take(t.Context(), stock.Draw{SKU: "hot", Shard: 2, Units: 1}); !errors.Is(err, errShort) {
			t.Fatalf("shard 2 after 24: %v, want short", err)
		}
		takeN(t, h, "hot", 0, 25)
	}},
	{"fewer shards are refused", func(t *testing.T, h harness) {
		load(t, h, product("hot", 100, 4))
		_, err := catalog.Load(t.Context(), h.store, []catalog.Product{product("hot", 100, 2)})
		if !errors.Is(err, catalog.ErrStock) {
			t.Fatalf("4 -> 2 shards: %v, want ErrStock", err)
		}
		if l := get(t, h, "hot"); l.Shards != 4 || l.Available != 100 {
			t.Fatalf("after the refusal %+v", l)
		}
	}},
	{"products absent from the file are left alone and reported", func(t *testing.T, h harness) {
		load(t, h, product("a", 1, 1), product("b", 2, 1))
		r := load(t, h, product("b", 2, 1))
		if !slices.Equal(r.Absent, []string{"a"}) || r.Changed() != 0 {
			t.Fatalf("report %+v, want a absent, nothing changed", r)
		}
		assertAvailable(t, h, "a", 1)
	}},
	{"an invalid product is refused before anything is written", func(t *testing.T, h harness) {
		_, err := catalog.Load(t.Context(), h.store, []catalog.Product{product("a", 1, 1), product("a#1", 1, 1)})
		if err == nil {
			t.Fatal("no error")
		}
		if _, err := h.store.Get(t.Context(), "a"); !errors.Is(err, catalog.ErrNotFound) {
			t.Fatalf("a was written: %v", err)
		}
	}},
	{"loads while 20 checkouts take units conserve every unit", func(t *testing.T, h harness) {
		ctx := t.Context()
		load(t, h, product("hot", 200, 1))
		var taken atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for g := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(g), 1))
				for {
					select {
					case <-stop:
						return
					default:
					}
					d := stock.Draw{SKU: "hot", Shard: r.IntN(4), Units: 1 + r.IntN(2)}
					err := h.take(ctx, d)
					if err == nil {
						taken.Add(int64(d.Units))
						continue
					}
					if !errors.Is(err, errShort) {
						t.Error(err)
						return
					}
				}
			}()
		}
		for _, p := range []catalog.Product{product("hot", 300, 2), product("hot", 400, 4), product("hot", 500, 4), product("hot", 500, 4)} {
			// Load while the checkouts are taking: after a few more units were taken.
			// (Or after a moment: they may have taken every unit.)
			for before, until := taken.Load(), time.Now().Add(time.Second); taken.Load() < before+5 && time.Now().Before(until); {
				runtime.Gosched()
			}
			if _, err := catalog.Load(ctx, h.store, []catalog.Product{p}); err != nil {
				close(stop)
				wg.Wait()
				t.Fatal(err)
			}
		}
		close(stop)
		wg.Wait()
		left := get(t, h, "hot").Available
		// Take everything that is left, shard by shard, and count it.
		drained := 0
		for shard := range 4 {
			for h.take(ctx, stock.Draw{SKU: "hot", Shard: shard, Units: 1}) == nil {
				drained++
			}
		}
		if drained != left {
			t.Fatalf("available said %d, drained %d", left, drained)
		}
		if got := int(taken.Load()) + left; got != 500 || taken.Load() == 0 {
			t.Fatalf("taken %d + left %d = %d, want the 500 loaded (and some taken meanwhile)", taken.Load(), left, got)
		}
	}},
}

func equal(a, b catalog.Product) bool {
	return a.SKU == b.SKU && a.Name == b.Name && a.Active == b.Active && a.Stock == b.Stock && a.Shards == b.Shards &&
		maps.Equal(a.Prices, b.Prices)
}
