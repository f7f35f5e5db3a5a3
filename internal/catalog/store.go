package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/checkout-idem/checkout/internal/stock"
)

// ErrNotFound is returned by Get for a sku the catalog does not hold.
var ErrNotFound = errors.New("catalog: product not found")

// ErrStock matches the errors of a load the shards cannot follow: a stock lowered by more units
// than are left, or fewer shards than stored.
var ErrStock = errors.New("catalog: stock change refused")

// Listing is a product with the units left across its shards.
type Listing struct {
	Product
	Available int
}

// Store reads the catalog.
type Store interface {
	// Products returns the named products that exist (missing ones absent), in one batch read.
	Products(ctx context.Context, skus []string) (map[string]Product, error)
	// List returns every product, active or not, sorted by sku.
	List(ctx context.Context) ([]Listing, error)
	// Get returns one product and its units left, or ErrNotFound.
	Get(ctx context.Context, sku string) (Listing, error)
}

// Loader writes a catalog file into a store: see Load.
type Loader interface {
	Load(ctx context.Context, products []Product) (Report, error)
}

// Load validates products and loads them into store. It is idempotent: loading the same
// products twice changes nothing the second time. A changed name, price or active flag updates
// the product and leaves its units alone; a product's Stock is the total of units ever loaded,
// so Stock - stored Stock units are added (or removed: refused with ErrStock when the shards do
// not hold that many) and what is left is rebalanced across Shards shards (stock.Split), in one
// conditional write with the product, retried when a checkout took units meanwhile. Shards may
// only grow (ErrStock). Stored products absent from products are left alone (Report.Absent).
// Products are loaded one by one: on an error, those before it are loaded.
func Load(ctx context.Context, store Loader, products []Product) (Report, error) {
	if err := Validate(products); err != nil {
		return Report{}, err
	}
	return store.Load(ctx, products)
}

// Report is what a load did.
type Report struct {
	Changes   []Change `json:"changes"`   // products created or updated, in file order
	Unchanged []string `json:"unchanged"` // skus the load left as they were
	Absent    []string `json:"absent"`    // stored skus the file does not name, left alone
}

// Changed returns the number of products created or updated.
func (r Report) Changed() int { return len(r.Changes) }

// Change is one product a load created or updated.
type Change struct {
	SKU     string `json:"sku"`
	Created bool   `json:"created,omitempty"`
	Product bool   `json:"product,omitempty"` // name, prices or active changed
	// Units added to the shards (negative: removed).
	Units  int `json:"units,omitempty"`
	Shards int `json:"shards"` // shards after the load
	Was    int `json:"was_shards,omitempty"`
	// Available is the units left across the shards after the load.
	Available int `json:"available"`
}

// step is what loading want over the stored product (nil: none) and the stored units of its
// shards 0..want.Shards-1 writes: the product, and the shards' new units when they change (nil
// when they stay).
type step struct {
	change Change
	units  []int
	write  bool // the product item changes
}

func plan(want Product, have *Product, units []int) (step, error) {
	left := 0
	for _, u := range units {
		left += u
	}
	var s step
	s.change = Change{SKU: want.SKU, Shards: want.Shards}
	delta, grow := want.Stock, true
	if have == nil {
		s.change.Created, s.write = true, true
	} else {
		if want.Shards < have.Shards {
			return step{}, fmt.Errorf("%w: %s: shards %d is fewer than the %d stored (units sit in the higher shards; shards may only grow)",
				ErrStock, want.SKU, want.Shards, have.Shards)
		}
		delta, grow = want.Stock-have.Stock, want.Shards > have.Shards
		if grow {
			s.change.Was = have.Shards
		}
		s.change.Product = !same(want, *have)
		s.write = s.change.Product || delta != 0 || grow
	}
	if left+delta < 0 {
		return step{}, fmt.Errorf("%w: %s: stock %d removes %d units, but only %d are left in its shards",
			ErrStock, want.SKU, want.Stock, -delta, left)
	}
	s.change.Units, s.change.Available = delta, left+delta
	if delta != 0 || grow || have == nil {
		s.units = stock.Split(left+delta, want.Shards)
	}
	return s, nil
}

// sumUnits returns the units of the first n shards.
func sumUnits(units func(key string) int, sku string, n int) int {
	total := 0
	for i := range n {
		total += units(stock.ShardKey(sku, i))
	}
	return total
}
