package ddb

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff waits before retry attempt+1 (attempt counts from 0) of a write that met a
// concurrent transaction or a failed optimistic condition: 5 ms doubling to 320 ms, ±50 %, so
// colliding writers do not collide again. It returns ctx's error if ctx ends first.
func Backoff(ctx context.Context, attempt int) error {
	d := time.Duration(5<<min(attempt, 6)) * time.Millisecond
	t := time.NewTimer(d/2 + rand.N(d))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
