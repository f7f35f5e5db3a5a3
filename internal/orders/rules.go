package orders

import (
	"fmt"
	"strings"
)

// The rules of the writes, in Go: the memory store applies them, and the DynamoDB store uses
// them to explain a failed condition. DynamoStore's condition expressions say the same.

// checkOrder validates the order of a Reserve.
func checkOrder(o Order) error {
	switch {
	case o.ID == "":
		return fmt.Errorf("orders: begin: empty order id")
	case o.ProviderKey == "":
		return fmt.Errorf("orders: begin %s: empty provider key", o.ID)
	case o.Amount <= 0:
		return fmt.Errorf("orders: begin %s: amount %d is not positive", o.ID, o.Amount)
	}
	return nil
}

// checkSettle validates the target of Settle.
func checkSettle(id string, to Status) error {
	switch to {
	case Pending, RequiresAction, Failed, Paid:
		return nil
	}
	return fmt.Errorf("orders: settle %s: %w: %q (want pending, requires_action, failed or paid)", id, ErrInvalidStatus, to)
}

// settles reports whether Settle may move o to to with intentID.
func settles(o Order, to Status, intentID string) bool {
	return o.Status.Rank() <= to.Rank() &&
		(intentID == "" || o.PaymentIntentID == "" || o.PaymentIntentID == intentID)
}

// ownIntent reports whether c is about o's payment intent (see Change.IntentID).
func ownIntent(o Order, c Change) bool {
	if o.PaymentIntentID != "" {
		return c.IntentID == o.PaymentIntentID
	}
	return c.Amount == o.Amount && c.Currency == o.Currency
}

// partialRefund reports whether c records a refund without changing the status.
func partialRefund(c Change) bool { return c.To == Refunded && c.AmountRefunded < c.Amount }

// applies reports whether c changes o (ownIntent already holds).
func applies(o Order, c Change) bool {
	if !c.UpdatedBefore.IsZero() && !o.UpdatedAt.Before(c.UpdatedBefore) {
		return false
	}
	if partialRefund(c) {
		return c.AmountRefunded > o.AmountRefunded
	}
	if c.To == Abandoned && !o.Status.Open() {
		return false
	}
	return o.Status.Rank() < c.To.Rank() && (c.To != Refunded || c.AmountRefunded >= o.AmountRefunded)
}

// changed returns o with c applied (applies holds).
func changed(o Order, c Change) Order {
	if o.PaymentIntentID == "" {
		o.PaymentIntentID = c.IntentID
	}
	o.UpdatedAt = c.Now.UTC()
	if c.To == Refunded {
		o.AmountRefunded = c.AmountRefunded
		if c.Reason != "" {
			o.RefundReason = c.Reason
		}
	}
	if !partialRefund(c) {
		o.Status = c.To
	}
	return o
}

func checkChange(id string, c Change) error {
	if !c.To.Valid() || c.To == Created {
		return fmt.Errorf("orders: apply %s: %w: %q", id, ErrInvalidStatus, c.To)
	}
	if c.To == Refunded && c.AmountRefunded <= 0 {
		return fmt.Errorf("orders: apply %s: a refund of %d", id, c.AmountRefunded)
	}
	return nil
}

// cmpStuck orders Stuck's result: created before pending, then oldest UpdatedAt first, then
// by id.
func cmpStuck(o, p Order) int {
	if c := o.Status.Rank() - p.Status.Rank(); c != 0 {
		return c
	}
	if c := o.UpdatedAt.Compare(p.UpdatedAt); c != 0 {
		return c
	}
	return strings.Compare(o.ID, p.ID)
}
