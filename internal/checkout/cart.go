package checkout

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/checkout-idem/checkout/internal/orders"
	"github.com/checkout-idem/checkout/internal/problem"
)

// SoldOutFor is how long a checkout remembers that a sku had too few units: attempts that ask
// for more than were left are answered 409 out-of-stock without a transaction meanwhile. When
// it lapses, one attempt looks at the stock again while the others are still answered from
// the mark (for at most SoldOutFor more), so a sold-out product costs a container one walk of
// its shards per SoldOutFor, not one per buyer. Units that come back (a decline, an abandoned
// order, a restock) are sold again after at most twice this.
const SoldOutFor = 2 * time.Second

// cart is a request priced from the catalog: its lines, their total, and each sku's shards.
type cart struct {
	lines  []orders.Line
	total  int64
	shards map[string]int
}

// price prices req from the catalog. The problems it answers are the buyer's to fix (an
// unknown sku, a currency without a price, a total that changed) and are not stored, or 503
// when the catalog cannot be read.
func (s *service) price(ctx context.Context, req request) (cart, *problem.Problem) {
	skus := make([]string, len(req.Items))
	for i, it := range req.Items {
		skus[i] = it.SKU
	}
	products, err := s.Catalog.Products(ctx, skus)
	if err != nil {
		s.Logger.ErrorContext(ctx, "checkout: catalog read", "error", err.Error())
		return cart{}, &problem.Problem{Type: problem.StoreUnavailable, Status: http.StatusServiceUnavailable,
			Detail: "the catalog is unavailable; retry with the same Idempotency-Key", RetryAfter: 1}
	}
	c := cart{shards: map[string]int{}}
	var unknown, unpriced []string
	for _, it := range req.Items {
		p, ok := products[it.SKU]
		if !ok || !p.Active {
			unknown = append(unknown, it.SKU)
			continue
		}
		price, ok := p.Prices[req.Currency]
		if !ok {
			unpriced = append(unpriced, it.SKU)
			continue
		}
		c.lines = append(c.lines, orders.Line{SKU: it.SKU, Name: p.Name, UnitPrice: price, Quantity: it.Quantity})
		c.total += price * int64(it.Quantity)
		c.shards[it.SKU] = max(p.Shards, 1)
	}
	switch {
	case len(unknown) > 0:
		p := problem.New(http.StatusBadRequest, problem.UnknownProduct, "no such product for sale: "+strings.Join(unknown, ", ")+
			"; fix the cart and retry (the same Idempotency-Key may be used)")
		p.SKUs, p.Field = unknown, "items"
		return cart{}, &p
	case len(unpriced) > 0:
		p := problem.New(http.StatusBadRequest, problem.UnknownProduct, fmt.Sprintf("not sold in %s: %s; pay in another currency or remove them",
			req.Currency, strings.Join(unpriced, ", ")))
		p.SKUs, p.Field = unpriced, "currency"
		return cart{}, &p
	case c.total > MaxAmount:
		p := problem.New(http.StatusBadRequest, problem.InvalidRequest, fmt.Sprintf("the cart's total %d is above the most one payment may be, %d", c.total, MaxAmount))
		p.Field = "items"
		return cart{}, &p
	case req.Amount != 0 && req.Amount != c.total:
		p := problem.New(http.StatusConflict, problem.PriceChanged, fmt.Sprintf(
			"the cart's total is now %d %s, not %d: show the buyer the new total and send it as amount (the same Idempotency-Key may be used); nothing was charged",
			c.total, req.Currency, req.Amount))
		p.Amount, p.Currency = c.total, req.Currency
		return cart{}, &p
	}
	return c, nil
}

// soldOut remembers, for SoldOutFor, how many units each sku had left when a purchase found
// it short.
type soldOut struct {
	mu   sync.Mutex
	left map[string]mark
}

type mark struct {
	units int
	until time.Time
	// probing: an attempt is looking at the stock again since the mark lapsed, until then.
	probing time.Time
}

// note records left (units by sku) as seen at now.
func (m *soldOut) note(left map[string]int, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.left == nil {
		m.left = map[string]mark{}
	}
	for sku, u := range left {
		m.left[sku] = mark{units: u, until: now.Add(SoldOutFor)}
	}
}

// clear forgets the marks of skus: the probe of their lapsed marks found the units.
func (m *soldOut) clear(skus []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, sku := range skus {
		delete(m.left, sku)
	}
}

// short returns the skus of lines known, at now, to have fewer units than asked for. The
// first call to find a lapsed mark is let through to look at the stock, and gets the skus it
// probes (its reservation's answer renews their marks, or clears them); calls meanwhile are
// still answered from the mark.
func (m *soldOut) short(lines []orders.Line, now time.Time) (out, probes []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range lines {
		k, ok := m.left[l.SKU]
		switch {
		case !ok || k.units >= l.Quantity:
		case now.Before(k.until) || now.Before(k.probing):
			out = append(out, l.SKU)
		default:
			probes = append(probes, l.SKU)
		}
	}
	if len(out) > 0 {
		return slices.Sorted(slices.Values(out)), nil
	}
	for _, sku := range probes { // this call probes: the others wait for its answer
		k := m.left[sku]
		k.probing = now.Add(SoldOutFor)
		m.left[sku] = k
	}
	return nil, probes
}

// outOfStock answers 409 out-of-stock naming skus: nothing was charged or kept.
func outOfStock(w http.ResponseWriter, skus []string) {
	p := problem.New(http.StatusConflict, problem.OutOfStock, "not enough units left of "+strings.Join(skus, ", ")+
		"; nothing was charged or reserved: change the cart and retry (the same Idempotency-Key may be used)")
	p.SKUs = skus
	problem.Write(w, p)
}
