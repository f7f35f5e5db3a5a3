package idem

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultTTL   = 24 * time.Hour
	DefaultLease = 30 * time.Second
	DefaultWait  = 5 * time.Second
	// Reserve is the time budget kept back from a claim's lease for its completion or release:
	// the function runs with a deadline Reserve before the lease ends, so the result is stored
	// (or the claim released) while the claim is still ours, and never by a process the
	// platform is about to stop. In Lambda the lease ends at the invocation's deadline, so the
	// function has the invocation's remaining time minus Reserve; a payment provider's timeouts
	// and retries must fit inside that (see internal/payment).
	Reserve = 2 * time.Second
)

// Errors of Do. They wrap or are matched with errors.Is.
var (
	// ErrInProgress: another call holds the key and did not finish within Options.Wait. Nothing
	// ran; retry later with the same key (RetryAfter says when).
	ErrInProgress = errors.New("idem: a call with this key is in progress")
	// ErrMismatch: the key was used with another fingerprint. Nothing ran.
	ErrMismatch = errors.New("idem: key reused with a different request")
	// ErrUnavailable: the store failed. Nothing is known to have been stored; any claim made
	// was released, so a retry with the same key is safe.
	ErrUnavailable = errors.New("idem: store unavailable")
	// ErrLeaseLost: the function ran, but its lease ran out and another call took the key over
	// before the result was stored; that call's result is the one that counts, and the writes
	// attached to this one were not committed.
	ErrLeaseLost = errors.New("idem: lease lost before completion")
	// ErrTooLarge: the key completed, but its result was too large to store (MaxStored), so it
	// cannot be replayed.
	ErrTooLarge = errors.New("idem: stored result too large to replay")
)

// Options configure a Group. Zero values mean the defaults.
type Options struct {
	// TTL is how long a completed result is replayed (the record's expires_at). Default 24 h.
	TTL time.Duration
	// Lease is how long a claim is held when the context has no deadline. With a deadline (in
	// Lambda: the invocation's) the lease ends at the deadline. Default 30 s.
	Lease time.Duration
	// Wait bounds how long a duplicate waits for a call in progress (never past its own
	// deadline) before ErrInProgress. Default 5 s.
	Wait time.Duration
	// Now is the clock; default time.Now. NewOwner returns a fresh owner token; default 128
	// random bits.
	Now      func() time.Time
	NewOwner func() string
}

// Group runs a function at most once per key, durably, across processes: the durable cousin of
// singleflight.Group. Its zero value is not usable; call NewGroup.
type Group struct {
	store Store
	opt   Options
}

// NewGroup returns a Group keeping its records in store.
func NewGroup(store Store, opt Options) *Group {
	if store == nil {
		panic("idem: NewGroup: nil Store")
	}
	if opt.TTL <= 0 {
		opt.TTL = DefaultTTL
	}
	if opt.Lease <= 0 {
		opt.Lease = DefaultLease
	}
	if opt.Wait <= 0 {
		opt.Wait = DefaultWait
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.NewOwner == nil {
		opt.NewOwner = rand.Text
	}
	return &Group{store: store, opt: opt}
}

// Call is one call of Do.
type Call struct {
	Key         string  // the stored key; scope it (ScopedKey) so callers never share one
	Fingerprint string  // what is asked; the same key with another fingerprint is ErrMismatch
	With        []Write // committed atomically with the claim: if one fails, Do returns ErrWriteFailed
	ClientKey   string  // the key as the client sent it, for Info; optional
}

// Func is the work Do runs once per key. A nil error stores resp and completes the key; an error
// releases the claim, so the next call with the key runs again, and Do returns that error.
type Func func(ctx context.Context) (resp Response, err error)

// Info describes the claim a Func runs under; see FromContext.
type Info struct {
	Key       string // the client's key (Call.ClientKey)
	ScopedKey string // the stored key (Call.Key)
	Owner     string // the claim's owner token ("" for a call that runs unclaimed)
}

type ctxKey struct{}

// claim is the state of one claimed call, reached from its context.
type claim struct {
	info     Info
	mu       sync.Mutex
	writes   []Write
	released bool // Release was called: the Middleware stores nothing
}

// FromContext returns the claim a Func runs under.
func FromContext(ctx context.Context) (Info, bool) {
	c, ok := ctx.Value(ctxKey{}).(*claim)
	if !ok {
		return Info{}, false
	}
	return c.info, true
}

// withInfo returns ctx carrying info without a claim (Attach reports false there): for code that
// answers a key without running under it, such as Config.GuardFailed.
func withInfo(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, ctxKey{}, &claim{info: info})
}

// Attach adds writes to the completion of the claim ctx runs under: they are committed in the
// same transaction as the stored result, or not at all (Do then returns ErrWriteFailed and the
// claim is released). It reports false outside a claimed call. Safe for concurrent use.
func Attach(ctx context.Context, writes ...Write) bool {
	c, ok := ctx.Value(ctxKey{}).(*claim)
	if !ok || c.info.Owner == "" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, writes...)
	return true
}

// Release asks the Middleware to release the claim ctx runs under when the handler returns,
// storing nothing: its response reaches the client, and a retry with the key runs again. For
// answers below 500 that must not be replayed (a cart that can be fixed: out of stock, a
// changed price). It reports false outside a claimed call.
func Release(ctx context.Context) bool {
	c, ok := ctx.Value(ctxKey{}).(*claim)
	if !ok || c.info.Owner == "" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.released = true
	return true
}

// releasing reports whether Release was called under ctx.
func releasing(ctx context.Context) bool {
	c, ok := ctx.Value(ctxKey{}).(*claim)
	if !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.released
}

// RetryAfter returns when a call that failed with ErrInProgress may retry: the holder's lease
// end, at least 1 s and at most 10 s away; 1 s for any other error.
func RetryAfter(err error) time.Duration {
	var b *busyError
	if errors.As(err, &b) {
		return b.retry
	}
	return time.Second
}

type busyError struct{ retry time.Duration }

func (e *busyError) Error() string { return ErrInProgress.Error() }
func (e *busyError) Unwrap() error { return ErrInProgress }

// Do runs fn once per key, and returns its result or, for every later call with the key, the
// stored one (replayed true):
//
//   - The first call claims the key (one conditional write, with c.With), runs fn, and stores
//     its result on condition that the claim is still its own.
//   - A call that finds the key completed replays the result (ErrTooLarge if it was not stored);
//     with another fingerprint it returns ErrMismatch. Neither runs fn.
//   - A call that finds the key in progress waits for it (polling with backoff, at most
//     Options.Wait and never past its own deadline) and replays its result; if it is still in
//     progress then, ErrInProgress. A claim whose lease ended (its process died) is taken over.
//   - fn runs with a deadline Reserve before the lease ends. An error from fn, or a panic
//     (re-panicked after), releases the claim; the completion is stored even if ctx was
//     cancelled meanwhile, because the result exists.
func (g *Group) Do(ctx context.Context, c Call, fn Func) (resp *Response, replayed bool, err error) {
	start := g.opt.Now()
	waitUntil := start.Add(g.opt.Wait)
	if dl, ok := ctx.Deadline(); ok {
		// Leave a second to answer before the caller's deadline (and the gateway) gives up.
		if byDeadline := start.Add(time.Until(dl) - time.Second); byDeadline.Before(waitUntil) {
			waitUntil = byDeadline
		}
	}
	for {
		now := g.opt.Now()
		lease := g.opt.Lease
		if dl, ok := ctx.Deadline(); ok {
			lease = time.Until(dl) // a real duration, counted from the injected clock's now
		}
		rec := Record{
			Key: c.Key, Status: InProgress, Fingerprint: c.Fingerprint, Owner: g.opt.NewOwner(),
			LeaseUntil: now.Add(lease), ExpiresAt: now.Add(g.opt.TTL), CreatedAt: now,
		}
		held, err := g.store.Claim(ctx, rec, now, c.With...)
		switch {
		case errors.Is(err, ErrWriteFailed) || errors.Is(err, ErrWriteKind):
			return nil, false, err
		case err != nil:
			return nil, false, fmt.Errorf("%w: %w", ErrUnavailable, err)
		case held == nil || held.Owner == rec.Owner:
			// Ours: claimed now, or by an attempt of this very call whose answer was lost and
			// that the SDK retried (the retry found the record it had written).
			return g.run(ctx, c, rec, lease, fn)
		case held.Fingerprint != c.Fingerprint:
			return nil, false, ErrMismatch
		case held.Status == Completed:
			return replay(held)
		}
		done, err := g.await(ctx, held, waitUntil)
		if err != nil {
			return nil, false, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if done != nil {
			if done.Fingerprint != c.Fingerprint {
				return nil, false, ErrMismatch
			}
			return replay(done)
		}
		if !g.opt.Now().Before(waitUntil) || ctx.Err() != nil {
			return nil, false, &busyError{retry: g.retryAfter(held)}
		}
		// The holder released its claim or its lease ran out: claim again.
	}
}

func (g *Group) retryAfter(held *Record) time.Duration {
	d := held.LeaseUntil.Sub(g.opt.Now()).Truncate(time.Second) + time.Second
	return max(time.Second, min(d, 10*time.Second))
}

func replay(rec *Record) (*Response, bool, error) {
	if rec.Response == nil || rec.Response.TooLarge {
		return nil, true, ErrTooLarge
	}
	return rec.Response, true, nil
}

// run calls fn under the claim rec and completes or releases it.
func (g *Group) run(ctx context.Context, c Call, rec Record, lease time.Duration, fn Func) (*Response, bool, error) {
	cl := &claim{info: Info{Key: c.ClientKey, ScopedKey: c.Key, Owner: rec.Owner}}
	// Completion and release run even if the caller went away: a late completion is harmless
	// (it is conditioned on the claim still being ours), so they get at least DefaultLease.
	finish, cancelFinish := context.WithTimeout(context.WithoutCancel(ctx), max(lease, DefaultLease))
	defer cancelFinish()
	budget := lease - Reserve
	if budget < lease/2 {
		budget = lease / 2 // little time left: share it rather than run with none
	}
	work, cancelWork := context.WithTimeout(context.WithValue(ctx, ctxKey{}, cl), budget)
	defer cancelWork()

	released := false
	defer func() {
		if v := recover(); v != nil {
			if !released {
				_ = g.store.Release(finish, rec.Key, rec.Owner)
			}
			panic(v)
		}
	}()
	resp, err := fn(work)
	if err != nil {
		released = true
		if rerr := g.store.Release(finish, rec.Key, rec.Owner); rerr != nil && !errors.Is(rerr, ErrNotOwner) {
			// The claim stays until its lease ends; the next call then takes it over.
			return nil, false, fmt.Errorf("%w (and the claim was not released: %v)", err, rerr)
		}
		return nil, false, err
	}
	cl.mu.Lock()
	writes := cl.writes
	cl.mu.Unlock()
	rec.Status, rec.Response = Completed, &resp
	switch err := g.store.Complete(finish, rec, writes...); {
	case err == nil:
		return &resp, false, nil
	case errors.Is(err, ErrNotOwner):
		if cur, gerr := g.store.Get(finish, rec.Key, g.opt.Now()); gerr == nil && cur != nil &&
			cur.Status == Completed && cur.Fingerprint == rec.Fingerprint {
			return replay(cur)
		}
		return nil, false, ErrLeaseLost
	default:
		released = true
		_ = g.store.Release(finish, rec.Key, rec.Owner)
		if errors.Is(err, ErrWriteFailed) || errors.Is(err, ErrWriteKind) {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
}

// Polling of a call in progress: the first poll after PollFirst, doubling up to PollMax, each
// delay drawn between half and all of it. A waiter then reads the record at most 3 times in
// its first second (at the earliest at 100, 300 and 700 ms) and 2 times a second after, so 1,000
// waiters on one key stay within DynamoDB's 3,000 read units per second per partition (a record
// of up to 4 KB costs one unit per strongly consistent read), about 1,330 a second on average.
const (
	PollFirst = 200 * time.Millisecond
	PollMax   = time.Second
)

// await polls the record with backoff until it completes (returned), disappears or can be taken
// over (nil, nil), or waitUntil passes (nil, nil).
func (g *Group) await(ctx context.Context, held *Record, waitUntil time.Time) (*Record, error) {
	delay := PollFirst
	for {
		now := g.opt.Now()
		left := waitUntil.Sub(now)
		if left <= 0 {
			return nil, nil
		}
		sleep := delay/2 + mrand.N(delay/2+1)
		if until := held.LeaseUntil.Sub(now); until > 0 && until < sleep {
			sleep = until // wake up when the lease ends, to take over
		}
		t := time.NewTimer(min(sleep, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil
		case <-t.C:
		}
		delay = min(delay*2, PollMax)
		cur, err := g.store.Get(ctx, held.Key, g.opt.Now())
		if err != nil {
			return nil, err
		}
		if cur == nil || !cur.live(g.opt.Now()) {
			return nil, nil
		}
		if cur.Status == Completed {
			return cur, nil
		}
		held = cur
	}
}
