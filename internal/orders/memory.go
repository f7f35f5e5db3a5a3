package orders

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/checkout-idem/checkout/internal/stock"
)

// MemoryStore keeps orders in a map, and their units in a stock.Memory: the embedded default
// of `make run` and the fast store of unit tests. The function Settle returns takes its own
// lock (and the stock's) and calls nothing else, so running it under idem.MemoryStore's lock
// cannot deadlock. Locks are taken in one order: the orders', then the stock's.
type MemoryStore struct {
	mu     sync.Mutex
	orders map[string]Order
	units  *stock.Memory
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store with stock of its own (see WithStock).
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{orders: map[string]Order{}, units: stock.NewMemory()}
}

// WithStock makes the store take and put back units in units (the catalog's) and returns it.
func (s *MemoryStore) WithStock(units *stock.Memory) *MemoryStore { s.units = units; return s }

// Get implements Store.
func (s *MemoryStore) Get(_ context.Context, id string) (Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return Order{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return o, nil
}

// Reserve implements Store.
func (s *MemoryStore) Reserve(_ context.Context, o Order, shards map[string]int) (Order, error) {
	if err := checkReserve(o, shards); err != nil {
		return Order{}, err
	}
	o = normalize(o)
	o.Status, o.Units, o.PaymentIntentID, o.AmountRefunded, o.RefundReason = Created, Held, "", 0, ""
	o.Lines = withShards(o.Lines, shards)
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.orders[o.ID]
	if ok {
		if reserved(old, o) {
			return old, nil
		}
		if !retakable(old, o) {
			return old, fmt.Errorf("%w: reserve %s: order is %s with units %q, or was made for another purchase", ErrConflict, o.ID, old.Status, old.Units)
		}
		o.CreatedAt, o.ProviderKey, o.ProviderKeyAt = old.CreatedAt, old.ProviderKey, old.ProviderKeyAt
	}
	if err := s.take(&o); err != nil {
		return Order{}, err
	}
	s.orders[o.ID] = o
	return o, nil
}

// take plans o's draws and takes them, learning shards' units until the plan fits.
func (s *MemoryStore) take(o *Order) error {
	known := stock.Known{}
	for {
		draws, short := stock.Plan(o.ID, needs(o.Lines), known)
		if short != nil {
			return shortOf(short, o.Lines, known)
		}
		if err := s.units.Take(draws, known); err == nil {
			o.Draws = draws
			return nil
		} else if !errors.Is(err, stock.ErrShort) {
			return err
		}
	}
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, o Order, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.orders[o.ID]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, o.ID)
	}
	if old.Units != Held || old.Status != Created {
		return nil
	}
	s.units.PutBack(old.Draws)
	old.Units, old.UpdatedAt = Released, now.UTC()
	s.orders[o.ID] = old
	return nil
}

// Settle implements Store; the write is one func() error.
func (s *MemoryStore) Settle(ord Order, to Status, intentID string, now time.Time) ([]any, error) {
	id := ord.ID
	if err := checkSettle(id, to); err != nil {
		return nil, err
	}
	return []any{func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		o, ok := s.orders[id]
		if !ok {
			return fmt.Errorf("%w: settle %s", ErrNotFound, id)
		}
		if !settles(o, to, intentID) || o.Units == Released {
			return fmt.Errorf("%w: settle %s to %s: order is %s with intent %q and units %q", ErrConflict, id, to, o.Status, o.PaymentIntentID, o.Units)
		}
		if to == Failed && o.Units == Held {
			s.units.PutBack(o.Draws)
			o.Units = Released
		}
		o.Status, o.UpdatedAt = to, now.UTC()
		if intentID != "" {
			o.PaymentIntentID = intentID
		}
		s.orders[id] = o
		return nil
	}}, nil
}

// Apply implements Store.
func (s *MemoryStore) Apply(_ context.Context, id string, c Change) (Applied, error) {
	if err := checkChange(id, c); err != nil {
		return Applied{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	switch {
	case !ok:
		return Applied{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	case !ownIntent(o, c):
		return Applied{Order: o}, fmt.Errorf("%w: order %s has intent %q, the change %q", ErrForeignIntent, id, o.PaymentIntentID, c.IntentID)
	case !applies(o, c):
		return Applied{Order: o}, nil
	}
	unstocked := false
	switch unitsEffect(o, c.To) {
	case release:
		s.units.PutBack(o.Draws)
		o.Units = Released
	case retake:
		if err := s.take(&o); err == nil {
			o.Units = Held
		} else {
			unstocked = true
		}
	}
	o = changed(o, c)
	s.orders[id] = o
	return Applied{Changed: true, Order: o, Unstocked: unstocked}, nil
}

// Stuck implements Store.
func (s *MemoryStore) Stuck(_ context.Context, before time.Time, limit int) ([]Order, error) {
	s.mu.Lock()
	var out []Order
	for _, o := range s.orders {
		if (o.Status.Open() || unstocked(o)) && o.UpdatedAt.Before(before) {
			out = append(out, o)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, cmpStuck)
	if len(out) > limit {
		out = out[:max(limit, 0)]
	}
	return out, nil
}

// Create implements Store.
func (s *MemoryStore) Create(_ context.Context, o Order) error {
	o = normalize(o)
	if o.ID == "" {
		return fmt.Errorf("orders: create: empty order id")
	}
	if !o.Status.Valid() {
		return fmt.Errorf("orders: create %s: %w: %q", o.ID, ErrInvalidStatus, o.Status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orders[o.ID]; ok {
		return fmt.Errorf("%w: %s", ErrExists, o.ID)
	}
	s.orders[o.ID] = o
	return nil
}
