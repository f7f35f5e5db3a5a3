package idem

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// MemoryStore keeps records in a map: the embedded default of `make run` and the fast store of
// unit tests. It passes the same contract tests as DynamoStore, expiry included: an expired
// record is ignored, as DynamoDB's lagging TTL requires of the real store.
type MemoryStore struct {
	mu      sync.Mutex
	records map[string]Record
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{records: map[string]Record{}} }

// Claim implements Store.
func (s *MemoryStore) Claim(_ context.Context, rec Record, now time.Time, guards ...Write) (*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.records[rec.Key]; ok && old.live(now) {
		c := clone(old)
		return &c, nil
	}
	for i, g := range guards {
		if g.Memory == nil {
			continue
		}
		if err := g.Memory(); err != nil {
			return nil, fmt.Errorf("%w: guard %d: %w", ErrWriteFailed, i, err)
		}
	}
	rec.Status, rec.Response = InProgress, nil
	s.records[rec.Key] = clone(rec)
	return nil, nil
}

// Get implements Store.
func (s *MemoryStore) Get(_ context.Context, key string, now time.Time) (*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.records[key]
	if !ok || !now.Before(old.ExpiresAt) {
		return nil, nil
	}
	c := clone(old)
	return &c, nil
}

// Complete implements Store.
func (s *MemoryStore) Complete(_ context.Context, rec Record, writes ...Write) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.records[rec.Key]
	if ok && old.Owner == rec.Owner && old.Status == Completed {
		return nil // a repeat of our own completion: the first one stands
	}
	if !ok || old.Owner != rec.Owner || old.Status != InProgress {
		return ErrNotOwner
	}
	for i, w := range writes {
		if w.Memory == nil {
			continue
		}
		if err := w.Memory(); err != nil {
			return fmt.Errorf("%w: write %d: %w", ErrWriteFailed, i, err)
		}
	}
	old.Status, old.Response = Completed, rec.Response
	s.records[rec.Key] = clone(old)
	return nil
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, key, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.records[key]
	if !ok || old.Owner != owner || old.Status != InProgress {
		return ErrNotOwner
	}
	delete(s.records, key)
	return nil
}

// Len returns the number of records held, expired ones included (for tests).
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

// clone deep-copies the response so callers cannot alias stored bytes.
func clone(r Record) Record {
	if r.Response != nil {
		resp := *r.Response
		resp.Body = bytes.Clone(resp.Body)
		resp.Header = http.Header(resp.Header).Clone()
		r.Response = &resp
	}
	return r
}
