package idem

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Status is the state of a record.
type Status string

const (
	InProgress Status = "IN_PROGRESS"
	Completed  Status = "COMPLETED"
)

// Record is what a store keeps per scoped key.
type Record struct {
	Key         string    // scoped key (ScopedKey)
	Status      Status    //
	Fingerprint string    // Fingerprint of the request that claimed the key
	Owner       string    // random token of the claimant; completion and release require it
	LeaseUntil  time.Time // an IN_PROGRESS record may be taken over after this
	ExpiresAt   time.Time // TTL: the record counts as absent after this (second precision)
	CreatedAt   time.Time
	Response    *Response // set when Completed
}

// Response is a stored HTTP response, replayed byte for byte.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// TooLarge marks a completed request whose response could not be stored (see MaxStored).
	TooLarge bool
}

// live reports whether r still holds its key at now.
func (r *Record) live(now time.Time) bool {
	if !now.Before(r.ExpiresAt) {
		return false
	}
	return r.Status == Completed || now.Before(r.LeaseUntil)
}

// Store errors.
var (
	// ErrNotOwner: the record is gone or belongs to another claimant (our lease was taken over).
	ErrNotOwner = errors.New("idem: record not owned")
	// ErrWriteFailed: an attached Write's condition failed, so nothing was written.
	ErrWriteFailed = errors.New("idem: attached write condition failed")
)

// Write is a change to another table committed atomically with a claim (as a guard) or with a
// completion (for example, the order a checkout creates). Each store uses its own half.
type Write struct {
	// Dynamo is added to the same TransactWriteItems as the record.
	Dynamo types.TransactWriteItem
	// Memory runs under the memory store's lock after the record's own condition held; an error
	// cancels the claim or completion. Memory writes must check before they change anything.
	Memory func() error
}

// Store keeps records. MemoryStore and DynamoStore implement it and pass the same contract tests.
type Store interface {
	// Claim writes rec (IN_PROGRESS) unless a live record holds rec.Key at now, atomically with
	// guards. When one does, Claim writes nothing and returns it. A failed guard returns an
	// error matching ErrWriteFailed.
	Claim(ctx context.Context, rec Record, now time.Time, guards ...Write) (held *Record, err error)
	// Get returns the live record of key at now, or nil.
	Get(ctx context.Context, key string, now time.Time) (*Record, error)
	// Complete stores rec.Response and marks the record COMPLETED, atomically with writes,
	// provided the record is still IN_PROGRESS and owned by rec.Owner (else ErrNotOwner). A
	// repeat by the owner of a completion that succeeded (an SDK retry after a lost answer) is
	// a no-op that returns nil: the first completion stands.
	Complete(ctx context.Context, rec Record, writes ...Write) error
	// Release deletes the record if rec.Owner still owns it, so the next attempt runs again.
	Release(ctx context.Context, key, owner string) error
}
