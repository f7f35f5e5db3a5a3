package idem

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"time"
)

// Status is the state of a record.
type Status string

const (
	InProgress Status = "IN_PROGRESS"
	Completed  Status = "COMPLETED"
)

// Record is what a store keeps per key.
type Record struct {
	Key         string    // the stored key (for HTTP: ScopedKey)
	Status      Status    //
	Fingerprint string    // what the claimant asked for; a different one under the key is a mismatch
	Owner       string    // random token of the claimant; completion and release require it
	LeaseUntil  time.Time // an IN_PROGRESS record may be taken over after this
	ExpiresAt   time.Time // TTL: the record counts as absent from this instant (second precision)
	CreatedAt   time.Time
	Response    *Response // set when Completed
}

// Response is a stored result, replayed byte for byte. HTTP callers use all of it; other callers
// keep their result in Body and leave Status and Header zero.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// TooLarge marks a completed call whose body could not be stored (see MaxStored).
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
	// ErrWriteFailed: a Write's condition failed, so nothing was written.
	ErrWriteFailed = errors.New("idem: write condition failed")
	// ErrWriteKind: a Write of a kind the store cannot commit (a DynamoDB item given to the
	// memory store, say). Nothing was written; it is a wiring mistake, reported, never skipped.
	ErrWriteKind = errors.New("idem: write of the wrong kind for this store")
)

// Write is a change to another table committed atomically with a claim or a completion: both
// happen, or neither. Its dynamic type must be the kind the store commits, which Store.Accepts
// checks: a types.TransactWriteItem for DynamoStore, a func() error for MemoryStore (it runs
// under the store's lock after the record's own condition held, must check before it changes
// anything, and its error cancels the call). Any other kind fails the call with ErrWriteKind.
type Write any

// Store keeps records. MemoryStore and DynamoStore implement it and pass the same contract tests.
type Store interface {
	// Claim writes rec (IN_PROGRESS) unless a live record holds rec.Key at now, atomically with
	// writes. When one does, Claim writes nothing and returns it. A failed write returns an error
	// matching ErrWriteFailed.
	Claim(ctx context.Context, rec Record, now time.Time, writes ...Write) (held *Record, err error)
	// Get returns the live record of key at now, or nil.
	Get(ctx context.Context, key string, now time.Time) (*Record, error)
	// Complete stores rec.Response and marks the record COMPLETED, atomically with writes,
	// provided the record is still IN_PROGRESS and owned by rec.Owner (else ErrNotOwner). A
	// repeat by the owner of a completion that succeeded (an SDK retry after a lost answer) is
	// a no-op that returns nil: the first completion stands. A body too large to store even
	// compressed completes the record with Response.TooLarge.
	Complete(ctx context.Context, rec Record, writes ...Write) error
	// Release deletes the record if rec.Owner still owns it, so the next attempt runs again.
	Release(ctx context.Context, key, owner string) error
	// Accepts returns nil when the store can commit w, else an error matching ErrWriteKind.
	Accepts(w Write) error
}

// MaxStored is the largest body a record keeps (compressed if over 16 KiB): a body larger than
// that even compressed is not stored, and the record completes with TooLarge, which keeps every
// item well under DynamoDB's 400 KB limit.
const MaxStored = 300 << 10

// compressAbove is the body size from which bodies are stored gzipped.
const compressAbove = 16 << 10

// encodeBody is the one size policy of both stores: the bytes to store, whether they are
// gzipped, and whether the body is too large to store at all.
func encodeBody(body []byte) (stored []byte, gz, tooLarge bool) {
	if len(body) <= compressAbove {
		return body, false, false
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(body) // writes to a bytes.Buffer cannot fail
	_ = zw.Close()
	if buf.Len() > MaxStored {
		return nil, false, true
	}
	return buf.Bytes(), true, false
}
