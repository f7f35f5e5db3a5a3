package orders

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/checkout-idem/checkout/internal/idem"
)

// MemoryStore keeps orders in a map: the embedded default of `make run` and the fast store of
// unit tests. Its Write.Memory functions take its own lock and never call back into idem, so
// running them under idem.MemoryStore's lock cannot deadlock.
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

// Insert implements Store.
func (s *MemoryStore) Insert(o Order) idem.Write {
	return idem.Write{Memory: func() error { return s.insert(normalize(o)) }}
}

func (s *MemoryStore) insert(o Order) error {
	if o.ID == "" {
		return fmt.Errorf("orders: insert: empty order id")
	}
	if !o.Status.Valid() {
		return fmt.Errorf("orders: insert %s: %w: %q", o.ID, ErrInvalidStatus, o.Status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orders[o.ID]; ok {
		return fmt.Errorf("%w: %s", ErrExists, o.ID)
	}
	s.orders[o.ID] = o
	return nil
}

// Absent implements Store.
func (s *MemoryStore) Absent(id string) idem.Write {
	return idem.Write{Memory: func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.orders[id]; ok {
			return fmt.Errorf("%w: %s", ErrExists, id)
		}
		return nil
	}}
}

// Create implements Store.
func (s *MemoryStore) Create(_ context.Context, o Order) error { return s.insert(normalize(o)) }

// Advance implements Store.
func (s *MemoryStore) Advance(_ context.Context, id string, to Status, paymentIntentID string, now time.Time) (bool, error) {
	if !to.Valid() {
		return false, fmt.Errorf("orders: advance %s: %w: %q", id, ErrInvalidStatus, to)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return false, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if o.Status.Rank() >= to.Rank() {
		return false, nil
	}
	o.Status, o.UpdatedAt = to, now.UTC()
	if o.PaymentIntentID == "" {
		o.PaymentIntentID = paymentIntentID
	}
	s.orders[id] = o
	return true, nil
}

// Count implements Store.
func (s *MemoryStore) Count(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orders), nil
}
