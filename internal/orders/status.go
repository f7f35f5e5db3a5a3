package orders

import (
	"errors"
	"fmt"
	"strings"
)

// Status is the state of an order. Its rank orders the states; an order only moves up, except
// that Store.Reserve resets an abandoned order to Created (see the package documentation).
type Status string

const (
	Created        Status = "created"         // rank 0: claimed, no payment outcome yet (money may be moving)
	Pending        Status = "pending"         // rank 1: the provider has the payment, not confirmed yet
	RequiresAction Status = "requires_action" // rank 2: the buyer must act (3-D Secure and the like)
	Failed         Status = "failed"          // rank 3: the last attempt failed; a retry may still pay
	Abandoned      Status = "abandoned"       // rank 4: the reconciler found no charge for it
	Paid           Status = "paid"            // rank 5
	Refunded       Status = "refunded"        // rank 6: refunded in full
)

// ErrInvalidStatus is returned for a status that is not one of the constants above.
var ErrInvalidStatus = errors.New("orders: invalid status")

// Rank returns the position of s in the order created < pending < requires_action < failed <
// abandoned < paid < refunded (0 to 6), or -1 when s is not a valid status.
func (s Status) Rank() int {
	switch s {
	case Created:
		return 0
	case Pending:
		return 1
	case RequiresAction:
		return 2
	case Failed:
		return 3
	case Abandoned:
		return 4
	case Paid:
		return 5
	case Refunded:
		return 6
	}
	return -1
}

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool { return s.Rank() >= 0 }

// Open reports whether an order in s may still be waiting for its payment's outcome (created,
// pending, or requires_action: its buyer has not acted yet): the states Store.Stuck looks in,
// and the ones an order may be abandoned from. Each holds its units until it leaves.
func (s Status) Open() bool { return s == Created || s == Pending || s == RequiresAction }

// ParseStatus returns the status named s (case-insensitive, surrounding spaces ignored), or an
// error matching ErrInvalidStatus.
func ParseStatus(s string) (Status, error) {
	st := Status(strings.ToLower(strings.TrimSpace(s)))
	if !st.Valid() {
		return "", fmt.Errorf("%w: %q", ErrInvalidStatus, s)
	}
	return st, nil
}
