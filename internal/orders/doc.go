// Package orders holds the order record a checkout creates and its state transitions.
//
// An order is created once per idempotency key: the checkout handler attaches Store.Insert to
// the idempotency engine's completion (and may attach Store.Absent to its claim as a guard), so
// the order and the stored response are committed together or not at all. Payment events then
// move the order's Status forward with Store.Advance, which only ever raises its rank:
//
//	pending (0) < requires_action (1) < failed (2) < paid (3) < refunded (4)
//
// so webhooks delivered twice, late or out of order cannot move an order backwards (a paid order
// never returns to pending), while failed -> paid stays possible because a buyer may retry a
// payment on the same intent. In DynamoDB the rule is a condition on the update, not a read
// followed by a write, so it holds under concurrent deliveries.
package orders
