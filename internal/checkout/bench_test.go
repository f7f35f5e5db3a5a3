package checkout_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/checkout"
	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/stock"
)

// BenchmarkHandler measures the handler's own work per request, on memory stores and the Local
// provider (no network): a first checkout of a 1-line cart, of a 5-line cart, and a replay.
// Profile it with -cpuprofile; docs/benchmarks.md reports CPU per request before and after.
//
//	go test -run '^$' -bench Handler -benchmem -cpuprofile /tmp/cpu.out ./internal/checkout/
func BenchmarkHandler(b *testing.B) {
	units := stock.NewMemory()
	mem := catalog.NewMemoryStore(units)
	var products []catalog.Product
	for i := range 5 {
		products = append(products, catalog.Product{SKU: fmt.Sprintf("bench-%d", i), Name: "Bench", Active: true,
			Prices: map[string]int64{"eur": 2300}, Stock: 1 << 40, Shards: 1})
	}
	if _, err := catalog.Load(context.Background(), mem, products); err != nil {
		b.Fatal(err)
	}
	quiet := func(o *checkout.Options) {
		o.Catalog, o.Orders = mem, orders.NewMemoryStore().WithStock(units)
		o.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	body := func(lines int) string {
		items := ""
		for i := range lines {
			if i > 0 {
				items += ","
			}
			items += fmt.Sprintf(`{"sku":"bench-%d","quantity":1}`, i)
		}
		return `{"items":[` + items + `],"currency":"eur","payment_method":"pm_card_visa"}`
	}
	for _, lines := range []int{1, 5} {
		b.Run(fmt.Sprintf("first/%d-line", lines), func(b *testing.B) {
			e := newEnv(b, quiet)
			req := body(lines)
			for i := 0; b.Loop(); i++ {
				if w := e.post(fmt.Sprintf("bench-first-%d-%d", lines, i), req); w.Code != http.StatusCreated {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
	b.Run("replay", func(b *testing.B) {
		e := newEnv(b, quiet)
		req := body(1)
		if w := e.post("bench-replay", req); w.Code != http.StatusCreated {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		for b.Loop() {
			if w := e.post("bench-replay", req); w.Code != http.StatusCreated {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	})
}
