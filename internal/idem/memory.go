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
// record is ignored, as DynamoDB's lagging TTL requires of the real store. The writes it commits
// are func() error values (see Write).
type MemoryStore struct {
	mu      sync.Mutex
	records map[string]Record
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{records: map[string]Record{}} }

// Accepts implements Store.
func (s *MemoryStore) Accepts(w Write) error {
	if _, ok := w.(func() error); !ok {
		return fmt.Errorf("%w: MemoryStore takes a func() error, not %T", ErrWriteKind, w)
	}
	return nil
}

// Claim implements Store.
func (s *MemoryStore) Claim(_ context.Context, rec Record, now time.Time, writes ...Write) (*Record, error) {
	if err := s.acceptAll(writes); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.records[rec.Key]; ok && old.live(now) {
		c := clone(old)
		return &c, nil
	}
	if err := apply(writes); err != nil {
		return nil, err
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
	if err := s.acceptAll(writes); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.records[rec.Key]
	if ok && old.Owner == rec.Owner && old.Status == Completed {
		return nil // a repeat of our own completion: the first one stands
	}
	if !ok || old.Owner != rec.Owner || old.Status != InProgress {
		return ErrNotOwner
	}
	if err := apply(writes); err != nil {
		return err
	}
	old.Status, old.Response = Completed, rec.Response
	if old.Response != nil {
		if _, _, tooLarge := encodeBody(old.Response.Body); tooLarge {
			old.Response = &Response{Status: old.Response.Status, TooLarge: true}
		}
	}
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

func (s *MemoryStore) acceptAll(writes []Write) error {
	for _, w := range writes {
		if err := s.Accepts(w); err != nil {
			return err
		}
	}
	return nil
}

// apply runs writes in order; the first error stops them. Each write checks before it changes
// anything, so with one write the call is all or nothing, as a transaction is.
func apply(writes []Write) error {
	for i, w := range writes {
		if err := w.(func() error)(); err != nil {
			return fmt.Errorf("%w: write %d: %w", ErrWriteFailed, i, err)
		}
	}
	return nil
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
