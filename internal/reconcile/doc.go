// Package reconcile settles orders that nothing else settled: a checkout that crashed after
// the provider charged (or before it could), a webhook that never came. It is a plain package
// run on a schedule (functions/reconciler); Run is the whole contract.
//
// Each run asks the order store for open orders (created, pending, requires_action) last
// updated longer than Options.After ago (a sparse index, never a Scan), at most Options.Limit
// of them, created ones (a crashed checkout's) first, then pending, then requires_action, each
// status oldest first, and asks the payment provider what
// happened to each: the intent the order recorded (Retrieve), or else the one created for it
// (FindByOrder, by metadata order_id). Then:
//
//	provider says              order becomes            counted as
//	succeeded                  paid                     settled
//	failed (last attempt)      failed                   settled
//	requires_action            requires_action          settled (the buyer's action brings a webhook);
//	                                                    waiting when it already was (looked at again)
//	  ... for ActionTimeout    abandoned                abandoned (30 min since it entered requires_action)
//	processing, unconfirmed    pending (if created)     waiting (looked at again next run)
//	  ... for AbandonAfter     abandoned                abandoned (24 h since created by default)
//	canceled, or no intent     abandoned                abandoned
//	error, or another intent   unchanged                unknown
//
// Every change is an orders.Store Apply, whose conditions make the run idempotent and safe
// against webhooks and retries running at the same time: a second run, or a webhook that
// came first, changes nothing (counted unchanged), and abandoned only applies to an order
// still open and not updated since the cut-off, so a checkout retry that took the order over
// meanwhile is left alone. An abandoned order's idempotency record needs no release: a failed
// attempt released it, and a crashed one's lease (the invocation's deadline) ended long before
// the order is old enough to reconcile. So the buyer's retry of the same key runs again, and
// Store.Reserve restarts the order. An order abandoned in requires_action is the exception: its
// checkout completed, so its key replays that answer (whose intent is now canceled) until the
// record expires; the buyer pays with a new checkout. Canceling first is what makes this safe:
// the buyer can no longer authenticate a payment whose units went back to stock.
//
// Waiting and Unknown are both still open, and both looked at again next run; only Unknown is
// wrong: the provider failed or gave no usable answer, or the intent is not the order's. A buyer
// who walks away from 3-D Secure or never confirms is Waiting until the timeouts abandon the
// order, so the alarm on Unknown pages nobody for it.
//
// One JSON log line per order, and one summary line per run carrying CloudWatch Embedded
// Metric Format metrics Settled, Abandoned, Waiting, Unknown and Unchanged (namespace
// MetricsNamespace).
package reconcile
