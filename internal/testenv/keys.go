package testenv

import (
	"context"
	"sync"
	"time"

	"github.com/checkout-idem/checkout/internal/idem"
)

// Keys wraps an idempotency store and remembers every key claimed through it, so that a test can
// count the records held (Len) without the store exposing its contents.
type Keys struct {
	idem.Store
	mu   sync.Mutex
	seen map[string]bool
}

// NewKeys returns s wrapped; NewKeys(nil) wraps a fresh idem.MemoryStore.
func NewKeys(s idem.Store) *Keys {
	if s == nil {
		s = idem.NewMemoryStore()
	}
	return &Keys{Store: s, seen: map[string]bool{}}
}

// Claim implements idem.Store.
func (k *Keys) Claim(ctx context.Context, rec idem.Record, now time.Time, writes ...idem.Write) (*idem.Record, error) {
	k.mu.Lock()
	k.seen[rec.Key] = true
	k.mu.Unlock()
	return k.Store.Claim(ctx, rec, now, writes...)
}

// Len returns the number of records stored, expired ones included (read at the zero time).
func (k *Keys) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for key := range k.seen {
		if r, err := k.Store.Get(context.Background(), key, time.Time{}); err == nil && r != nil {
			n++
		}
	}
	return n
}
