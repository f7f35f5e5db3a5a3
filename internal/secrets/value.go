package secrets

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Defaults of Options.
const (
	// DefaultMaxAge bounds how long a rotated secret may go unnoticed (the value the AWS
	// Parameters and Secrets Lambda Extension uses for its cache).
	DefaultMaxAge = 5 * time.Minute
	// DefaultMinInterval is the least time between two reads of one secret: at most one
	// GetSecretValue per minute per container, whatever callers ask.
	DefaultMinInterval = time.Minute
	// readTimeout bounds one re-read done on a request's behalf.
	readTimeout = 3 * time.Second
)

// Options tune a Value; zero fields take the defaults above.
type Options struct {
	MaxAge, MinInterval time.Duration
	Now                 func() time.Time
	Logger              *slog.Logger
}

// Value is one secret, read by [Load] and cached. It is safe for concurrent use.
type Value struct {
	id   string
	from Fetcher
	opt  Options

	mu      sync.Mutex
	val     string
	readAt  time.Time // last successful read
	triedAt time.Time // last read attempted, successful or not
}

// Load reads the secret id once (an error here should fail the function's init: fail closed)
// and returns it cached.
func Load(ctx context.Context, from Fetcher, id string, opt Options) (*Value, error) {
	if opt.MaxAge <= 0 {
		opt.MaxAge = DefaultMaxAge
	}
	if opt.MinInterval <= 0 {
		opt.MinInterval = DefaultMinInterval
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	v := &Value{id: id, from: from, opt: opt}
	val, err := from.GetSecretValue(ctx, id)
	if err != nil {
		return nil, err
	}
	if val == "" {
		return nil, fmt.Errorf("secrets: %s is empty", id)
	}
	// triedAt stays zero: the first Refresh after init may read at once (a rotation that
	// happened just before the first delivery); later ones wait MinInterval.
	v.val, v.readAt = val, opt.Now()
	return v, nil
}

// Get returns the cached value, first re-reading it when it is older than MaxAge (and the last
// attempt is older than MinInterval). A failed re-read keeps the cached value and is logged.
func (v *Value) Get(ctx context.Context) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if now := v.opt.Now(); now.Sub(v.readAt) >= v.opt.MaxAge && now.Sub(v.triedAt) >= v.opt.MinInterval {
		v.read(ctx, "max age")
	}
	return v.val
}

// Refresh re-reads the secret now unless a re-read was attempted less than MinInterval ago
// (the read of Load does not count), and reports whether the value changed. Call it after a failure that a rotation would explain.
func (v *Value) Refresh(ctx context.Context) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.opt.Now().Sub(v.triedAt) < v.opt.MinInterval {
		return false
	}
	old := v.val
	v.read(ctx, "refresh")
	return v.val != old
}

// read fetches the value; v.mu is held.
func (v *Value) read(ctx context.Context, why string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readTimeout)
	defer cancel()
	v.triedAt = v.opt.Now()
	val, err := v.from.GetSecretValue(ctx, v.id)
	if err == nil && val == "" {
		err = fmt.Errorf("secrets: %s is empty", v.id)
	}
	if err != nil {
		v.opt.Logger.WarnContext(ctx, "secret re-read failed, keeping the cached value",
			"secret", v.id, "reason", why, "error", err.Error())
		return
	}
	changed := val != v.val
	v.val, v.readAt = val, v.triedAt
	v.opt.Logger.InfoContext(ctx, "secret re-read", "secret", v.id, "reason", why, "changed", changed)
}
