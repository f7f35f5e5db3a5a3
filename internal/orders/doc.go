// Package orders holds the order record a checkout creates and its state transitions. It knows
// nothing of the idempotency engine: Settle returns writes (DynamoDB TransactWriteItems, or a
// func for the memory store) that the checkout commits together with the completion of its
// idempotency key.
//
// The order exists before money moves. Under the key's claim, Reserve writes it in state
// created with its units taken from stock (package stock), in one transaction; the completion
// settles it; payment events and the reconciler apply what the provider reports. Units move
// only in the writes that change the order (see Units):
//
//	       Reserve (under the claim)  Settle (completion), Apply (events, reconciler): rank only rises
//	(none) ──────────▶ created ──▶ pending ──▶ requires_action ──▶ failed ──▶ paid ──▶ refunded
//	                    ▲  │          │                │
//	                    │  └──────────┴────────────────┴──▶ abandoned   (Apply: no charge exists, or the buyer never acted)
//	                    │                                      │
//	                    └──────────────────────────────────────┘       (Reserve: a new attempt with the same key)
//
// Ranks only rise: created < pending < requires_action < failed < abandoned < paid < refunded.
// So webhooks delivered twice, late or out of order cannot move an order backwards (a paid
// order never returns to pending), while failed -> paid stays possible because a buyer may
// retry a payment on the same intent. The one way down is Reserve, which takes the units again
// for an abandoned order (or a created one whose units a provider failure released) and sets it
// back to created.
//
// An event settles only its own order: Apply accepts a change when its payment intent is the
// order's, or when the order has none yet and amount and currency match (the intent is then
// recorded); anything else is ErrForeignIntent. A partial refund keeps the status and raises
// AmountRefunded, which never decreases; a full one moves the order to refunded.
//
// In DynamoDB every rule is a condition on the write, not a read followed by a write, so it
// holds under concurrent deliveries. Open orders (created, pending, requires_action) carry the key
// of a sparse index (OpenIndex), which Stuck queries for the reconciler instead of scanning the
// table.
package orders
