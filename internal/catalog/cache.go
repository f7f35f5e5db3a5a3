package catalog

import (
	"context"
	"sync"
	"time"
)

// Cache keeps the results of Products per sku (absent ones too) for a short while, so a burst
// of checkouts reads each price once; List and Get pass through. Safe for concurrent use.
type Cache struct {
	store Store
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	items map[string]cached
}

type cached struct {
	p     Product
	found bool
	until time.Time
}

var _ Store = (*Cache)(nil)

// maxCached bounds the skus a Cache holds.
const maxCached = 10000

// NewCache returns store with Products cached for ttl, by the clock now.
func NewCache(store Store, ttl time.Duration, now func() time.Time) Store {
	return &Cache{store: store, ttl: ttl, now: now, items: map[string]cached{}}
}

// Products implements Store: the skus not cached, or cached longer than ttl ago, are read in
// one call of the store.
func (c *Cache) Products(ctx context.Context, skus []string) (map[string]Product, error) {
	out := map[string]Product{}
	var missing []string
	now := c.now()
	c.mu.Lock()
	for _, sku := range skus {
		e, ok := c.items[sku]
		switch {
		case !ok || !now.Before(e.until):
			missing = append(missing, sku)
		case e.found:
			out[sku] = clone(e.p)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := c.store.Products(ctx, missing)
	if err != nil {
		return nil, err
	}
	until := now.Add(c.ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.items)+len(missing) > maxCached {
		clear(c.items) // many skus, or hostile ones: start again rather than grow
	}
	for _, sku := range missing {
		p, found := got[sku]
		if ValidSKU(sku) { // never grow the map for hostile keys
			c.items[sku] = cached{p: clone(p), found: found, until: until}
		}
		if found {
			out[sku] = p
		}
	}
	return out, nil
}

// List implements Store, uncached.
func (c *Cache) List(ctx context.Context) ([]Listing, error) { return c.store.List(ctx) }

// Get implements Store, uncached.
func (c *Cache) Get(ctx context.Context, sku string) (Listing, error) { return c.store.Get(ctx, sku) }
