package orders

import (
	"errors"
	"fmt"
	"strings"
)

// Status is the state of an order. Its rank orders the states; an order only moves up.
type Status string

const (
	Pending        Status = "pending"         // rank 0: created, payment not confirmed
	RequiresAction Status = "requires_action" // rank 1: the buyer must act (3-D Secure and the like)
	Failed         Status = "failed"          // rank 2: the last attempt failed; a retry may still pay
	Paid           Status = "paid"            // rank 3
	Refunded       Status = "refunded"        // rank 4
)

// ErrInvalidStatus is returned for a status that is not one of the constants above.
var ErrInvalidStatus = errors.New("orders: invalid status")

// Rank returns the position of s in the order pending < requires_action < failed < paid <
// refunded (0 to 4), or -1 when s is not a valid status.
func (s Status) Rank() int {
	switch s {
	case Pending:
		return 0
	case RequiresAction:
		return 1
	case Failed:
		return 2
	case Paid:
		return 3
	case Refunded:
		return 4
	}
	return -1
}

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool { return s.Rank() >= 0 }

// ParseStatus returns the status named s (case-insensitive, surrounding spaces ignored), or an
// error matching ErrInvalidStatus.
func ParseStatus(s string) (Status, error) {
	st := Status(strings.ToLower(strings.TrimSpace(s)))
	if !st.Valid() {
		return "", fmt.Errorf("%w: %q", ErrInvalidStatus, s)
	}
	return st, nil
}
