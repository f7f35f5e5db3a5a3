package catalog

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/checkout-idem/checkout/internal/stock"
)

// MemoryStore keeps the catalog in memory (`make run`, tests). Its units live in a stock.Memory
// shared with the orders store, which takes units from it.
type MemoryStore struct {
	units *stock.Memory
	load  sync.Mutex // one load at a time
	mu    sync.RWMutex
	items map[string]Product
}

var (
	_ Store  = (*MemoryStore)(nil)
	_ Loader = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty catalog over units.
func NewMemoryStore(units *stock.Memory) *MemoryStore {
	return &MemoryStore{units: units, items: map[string]Product{}}
}

// Products implements Store.
func (m *MemoryStore) Products(_ context.Context, skus []string) (map[string]Product, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := map[string]Product{}
	for _, sku := range skus {
		if p, ok := m.items[sku]; ok {
			out[sku] = clone(p)
		}
	}
	return out, nil
}

// List implements Store.
func (m *MemoryStore) List(context.Context) ([]Listing, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Listing, 0, len(m.items))
	for _, sku := range slices.Sorted(maps.Keys(m.items)) {
		out = append(out, m.listing(m.items[sku]))
	}
	return out, nil
}

// Get implements Store.
func (m *MemoryStore) Get(_ context.Context, sku string) (Listing, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p, ok := m.items[sku]
	if !ok {
		return Listing{}, ErrNotFound
	}
	return m.listing(p), nil
}

func (m *MemoryStore) listing(p Product) Listing {
	return Listing{Product: clone(p), Available: sumUnits(m.units.Units, p.SKU, p.Shards)}
}

// Load implements Loader; call it through the package's Load, which validates.
func (m *MemoryStore) Load(ctx context.Context, products []Product) (Report, error) {
	m.load.Lock()
	defer m.load.Unlock()
	var r Report
	named := map[string]bool{}
	for _, want := range products {
		named[want.SKU] = true
		for {
			if err := ctx.Err(); err != nil {
				return r, err
			}
			m.mu.RLock()
			have, ok := m.items[want.SKU]
			m.mu.RUnlock()
			var stored *Product
			if ok {
				stored = &have
			}
			was := map[string]int{}
			units := make([]int, want.Shards)
			for i := range units {
				k := stock.ShardKey(want.SKU, i)
				units[i] = m.units.Units(k)
				was[k] = units[i]
			}
			s, err := plan(want, stored, units)
			if err != nil {
				return r, err
			}
			if !s.write {
				r.Unchanged = append(r.Unchanged, want.SKU)
				break
			}
			if s.units != nil {
				set := map[string]int{}
				for i, u := range s.units {
					set[stock.ShardKey(want.SKU, i)] = u
				}
				if !m.units.Swap(was, set) {
					continue // a checkout took units since they were read
				}
			}
			m.mu.Lock()
			m.items[want.SKU] = clone(want)
			m.mu.Unlock()
			r.Changes = append(r.Changes, s.change)
			break
		}
	}
	m.mu.RLock()
	for _, sku := range slices.Sorted(maps.Keys(m.items)) {
		if !named[sku] {
			r.Absent = append(r.Absent, sku)
		}
	}
	m.mu.RUnlock()
	return r, nil
}

func clone(p Product) Product {
	p.Prices = maps.Clone(p.Prices)
	return p
}
