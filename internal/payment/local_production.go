//go:build production

package payment

import (
	"context"
	"fmt"
)

// hooks is empty in production builds: no fault injection, no counters (see local_faults.go).
type hooks struct{}

func (*hooks) created()  {}
func (*hooks) canceled() {}
func (*hooks) refunded() {}

// CreatePayment creates a PaymentIntent for req, or replays the one stored under its key; see
// Local.
func (l *Local) CreatePayment(ctx context.Context, req Request) (Intent, error) {
	if err := ctx.Err(); err != nil {
		return Intent{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return l.process(req, "")
}
