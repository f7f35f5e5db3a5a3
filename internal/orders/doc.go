// Package orders holds the order record a checkout creates and its state transitions. It knows
// nothing of the idempotency engine: Begin and Settle return writes (a DynamoDB
// TransactWriteItem, or a func for the memory store) that the checkout commits together with
// the claim and the completion of its idempotency key.
//
// The order exists before money moves. The claim writes it in state created; the completion
// settles it; payment events and the reconciler apply what the provider reports:
//
//	        Begin (claim)        Settle (completion), Apply (events, reconciler): rank only rises
//	(none) ──────────▶ created ──▶ pending ──▶ requires_action ──▶ failed ──▶ paid ──▶ refunded
//	                    ▲  │          │
//	                    │  └──────────┴──▶ abandoned   (Apply by the reconciler: no charge exists)
//	                    │                      │
//	                    └──────────────────────┘       (Begin: a new attempt with the same key)
//
// Ranks only rise: created < pending < requires_action < failed < abandoned < paid < refunded.
// So webhooks delivered twice, late or out of order cannot move an order backwards (a paid
// order never returns to pending), while failed -> paid stays possible because a buyer may
// retry a payment on the same intent. The one way down is Begin, which resets an abandoned
// order (or a created one, a retry taking over a crashed attempt) to created.
//
// An event settles only its own order: Apply accepts a change when its payment intent is the
// order's, or when the order has none yet and amount and currency match (the intent is then
// recorded); anything else is ErrForeignIntent. A partial refund keeps the status and raises
// AmountRefunded, which never decreases; a full one moves the order to refunded.
//
// In DynamoDB every rule is a condition on the write, not a read followed by a write, so it
// holds under concurrent deliveries. Orders in created or pending carry the key of a sparse
// index (OpenIndex), which Stuck queries for the reconciler instead of scanning the table.
package orders
