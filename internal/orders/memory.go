package orders

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// MemoryStore keeps orders in a map: the embedded default of `make run` and the fast store of
// unit tests. The functions Begin and Settle return take its own lock and call nothing else,
// so running them under idem.MemoryStore's lock cannot deadlock.
type MemoryStore struct {
	mu     sync.Mutex
	orders map[string]Order
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{orders: map[string]Order{}} }

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

// Begin implements Store; the write is a func() error.
func (s *MemoryStore) Begin(o Order) (any, error) {
	if err := checkBegin(o); err != nil {
		return nil, err
	}
	o = normalize(o)
	o.Status, o.PaymentIntentID, o.AmountRefunded = Created, "", 0
	return func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		old, ok := s.orders[o.ID]
		if ok {
			if !beginnable(old.Status) {
				return fmt.Errorf("%w: begin %s: order is %s", ErrConflict, o.ID, old.Status)
			}
			if !samePurchase(old, o) {
				return fmt.Errorf("%w: begin %s: order was created for other parameters", ErrConflict, o.ID)
			}
			o.CreatedAt, o.ProviderKey, o.ProviderKeyAt = old.CreatedAt, old.ProviderKey, old.ProviderKeyAt
		}
		s.orders[o.ID] = o
		return nil
	}, nil
}

// Settle implements Store; the write is a func() error.
func (s *MemoryStore) Settle(id string, to Status, intentID string, now time.Time) (any, error) {
	if err := checkSettle(id, to); err != nil {
		return nil, err
	}
	return func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		o, ok := s.orders[id]
		if !ok {
			return fmt.Errorf("%w: settle %s", ErrNotFound, id)
		}
		if !settles(o, to, intentID) {
			return fmt.Errorf("%w: settle %s to %s: order is %s with intent %q", ErrConflict, id, to, o.Status, o.PaymentIntentID)
		}
		o.Status, o.UpdatedAt = to, now.UTC()
		if intentID != "" {
			o.PaymentIntentID = intentID
		}
		s.orders[id] = o
		return nil
	}, nil
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
	o = changed(o, c)
	s.orders[id] = o
	return Applied{Changed: true, Order: o}, nil
}

// Stuck implements Store.
func (s *MemoryStore) Stuck(_ context.Context, before time.Time, limit int) ([]Order, error) {
	s.mu.Lock()
	var out []Order
	for _, o := range s.orders {
		if o.Status.Open() && o.UpdatedAt.Before(before) {
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
