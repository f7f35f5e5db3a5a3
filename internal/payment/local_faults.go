//go:build !production

package payment

import (
	"context"
	"fmt"
	"time"
)

// This file holds what only tests use: fault injection and counters. Production builds
// (`-tags production`, the Makefile's Lambda targets) compile local_production.go instead, so
// no injected fault can reach a deployed function.

// hooks is the test-only state of a Local, guarded by Local.mu.
type hooks struct {
	attempts map[string]int
	n, calls int // PaymentIntents created, CreatePayment calls
	cancels  int // PaymentIntents Cancel canceled
	refunds  int // refunds Refund made
	fault    func(req Request, attempt int) Fault
}

// created counts a PaymentIntent; Local.mu is held.
func (h *hooks) created() { h.n++ }

// canceled counts a PaymentIntent canceled; Local.mu is held.
func (h *hooks) canceled() { h.cancels++ }

// refunded counts a refund made; Local.mu is held.
func (h *hooks) refunded() { h.refunds++ }

// Fault is what Local does to one CreatePayment call besides its normal work; the zero Fault
// does nothing. Set them with SetFault.
type Fault struct {
	// Release and Delay hold the call: until Release is closed (or sends), or Delay has
	// passed, whichever comes first; a zero Delay and a nil Release do not hold. If ctx ends
	// first, the call returns an error wrapping ErrUnavailable and ctx.Err().
	Release <-chan struct{}
	Delay   time.Duration
	// AfterCharge holds the call after the payment was processed and stored instead of
	// before: with a context that ends meanwhile, the caller sees an error while the
	// PaymentIntent exists, as when a Lambda times out after Stripe charged.
	AfterCharge bool

	// Unavailable fails the call with ErrUnavailable before it reaches the provider: nothing
	// is created or stored (after a hold, when there is one).
	Unavailable bool
	// LoseResponse processes the payment as usual (creating and storing it under the key),
	// then fails with ErrUnavailable as if the answer was lost on its way back: a retry with
	// the same key gets the Intent (or decline) the lost answer carried.
	LoseResponse bool
	// Decline declines a payment that is processed now (not a replay) whatever its payment
	// method, as a card issuer would, with this decline code (e.g. generic_decline,
	// insufficient_funds). The decline is stored under the key like any other.
	Decline string
}

// SetFault installs f, called once at the start of every CreatePayment call with the request
// and its attempt number: 1 for the first call with req.IdempotencyKey, 2 for the second,
// and so on (always 1 for an empty key). The Fault it returns applies to that call. f runs
// without Local's lock held and may be called concurrently. SetFault(nil) removes it.
func (l *Local) SetFault(f func(req Request, attempt int) Fault) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hooks.fault = f
}

// Created returns how many distinct PaymentIntents Local created (declined ones included).
func (l *Local) Created() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hooks.n
}

// Calls returns how many times CreatePayment was called, whatever it answered.
func (l *Local) Calls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hooks.calls
}

// Cancels returns how many PaymentIntents Cancel canceled: a Cancel that found the intent
// succeeded or already canceled does not count.
func (l *Local) Cancels() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hooks.cancels
}

// Refunds returns how many refunds Refund made: a replay of a key does not count.
func (l *Local) Refunds() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hooks.refunds
}

// Authenticate is the buyer finishing 3-D Secure for intentID: a RequiresAction intent
// becomes Succeeded, as Retrieve and FindByOrder then report it; any other (a canceled one
// included: Stripe refuses to confirm it) is returned unchanged, with false. A replay of its key
// still answers the first answer, as Stripe replays the response it stored.
func (l *Local) Authenticate(intentID string) (Intent, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, err := l.find(intentID)
	if err != nil {
		return Intent{}, false
	}
	if in := r.lookedUp(); in.Outcome != RequiresAction {
		return in, false
	}
	r.authenticated = true
	return r.lookedUp(), true
}

// CreatePayment creates a PaymentIntent for req, or replays the one stored under its key;
// see Local and Fault.
func (l *Local) CreatePayment(ctx context.Context, req Request) (Intent, error) {
	l.mu.Lock()
	l.hooks.calls++
	attempt := 1
	if req.IdempotencyKey != "" {
		if l.hooks.attempts == nil {
			l.hooks.attempts = make(map[string]int)
		}
		l.hooks.attempts[req.IdempotencyKey]++
		attempt = l.hooks.attempts[req.IdempotencyKey]
	}
	hook := l.hooks.fault
	l.mu.Unlock()

	var f Fault
	if hook != nil {
		f = hook(req, attempt)
	}
	if !f.AfterCharge {
		if err := f.hold(ctx); err != nil {
			return Intent{}, err
		}
	}
	if f.Unavailable {
		return Intent{}, fmt.Errorf("%w: injected fault: the provider was not reached", ErrUnavailable)
	}
	if err := ctx.Err(); err != nil {
		return Intent{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	in, err := l.process(req, f.Decline)
	if f.AfterCharge {
		if herr := f.hold(ctx); herr != nil {
			return Intent{}, herr
		}
	}
	if f.LoseResponse {
		return Intent{}, fmt.Errorf("%w: injected fault: the answer was lost after the payment was processed", ErrUnavailable)
	}
	return in, err
}

// hold waits as the Fault says, or until ctx ends.
func (f Fault) hold(ctx context.Context) error {
	if f.Release == nil && f.Delay <= 0 {
		return nil
	}
	var timeout <-chan time.Time
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-f.Release:
	case <-timeout:
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	return nil
}
