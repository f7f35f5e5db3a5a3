// Package faults holds no code: its tests prove the promise "charged exactly once" under the
// failures a serverless checkout meets in production, each injected deterministically (fault
// hooks of payment.Local, channels, an injected clock, a DynamoDB Local that is stopped and
// restarted), and each ending with exact counts of orders (testenv.Orders Count), charges
// (payment.Local Created) and stored idempotency records (a Scan COUNT of the table, or
// testenv.Keys Len).
//
//   - DynamoDB unavailable (TestDynamoDBUnavailable): a DynamoDB Local of the test's own, on a
//     data folder, is stopped mid-run. Checkouts answer 503 store-unavailable with Retry-After
//     and the provider is never called, because nothing is charged without a successful claim.
//     After a restart the same keys answer 201 (new ones) or replay (old ones): one order, one
//     charge and one record per distinct key.
//
//   - Process killed mid-checkout (TestProcessKilledAfterTheCharge): a Lambda that dies after
//     the provider charged and before the completion is simulated in process: the provider
//     call is held after the charge (payment.Fault AfterCharge with a Release channel the test
//     does not close) and the clock shared by checkout and idem moves past the claim's lease,
//     which is the request's context deadline, as in Lambda. The retry takes over, gets the
//     same PaymentIntent (the provider key derives from the scoped key) and answers 201; the
//     stuck request, released or cancelled at last, cannot complete. On memory and DynamoDB.
//
//   - Slow provider (TestSlowProvider): concurrent duplicates with a short idempotency Wait
//     answer 409 with Retry-After while the first request is held, and the first's 201 bytes
//     once it is released; the provider is called once.
//
//   - Webhook application fails midway (TestWebhookApplyFailsOnce): the order store fails one
//     Apply (an injected error, or a DynamoDB Local stopped during the Apply and restarted
//     before the answer); the delivery answers 500 webhook-event-not-applied and its claim is
//     released, so the provider's redelivery (new timestamp, new signature) applies it, once.
//
//   - Killed while the provider holds the charge, and nobody comes back
//     (TestKilledChargeSettledWithoutTheBuyer): the order exists from the reservation on (right
//     after the claim), created; the provider's webhook, or with no webhook the reconciler
//     alone, marks it paid, also when the held request completes after the webhook; the buyer's
//     later retry gets that order, and the provider was charged once.
//
//   - Every crash point, swept (TestFaultMatrix): the hand-picked cases above, generalised. A
//     fault-free run of each subject (a checkout, a declined one, one with the provider down,
//     a replay, an order read, a webhook delivery, a reconciler settling a charge, one
//     abandoning an order and one cancelling a payment never confirmed, one abandoning an
//     order whose buyer never finished 3-D Secure (who then tries, on the provider's page, and
//     never retries the key), and a charge that succeeds after its order was abandoned unseen
//     and its units sold: its webhook, then the reconciler's refund) records its external
//     calls as they pass the one injection point (inject.Faults on the DynamoDB client, a
//     wrapper of the payment provider). Each call then
//     gets each fault in turn: failed before it is sent, committed with its answer lost,
//     committed and hanging past the deadline (the clock moves past the lease and the
//     invocation's context ends), committed and the process killed (its later calls fail
//     unsent, its answer is lost). Each is followed by each recovery (the buyer retries once,
//     5 times in a row, 5 at once; the webhook before or twice after a retry; the reconciler;
//     nothing), and every run ends with a day's silence, the reconciler, and the buyer
//     retrying until answered (with the provider's redelivery of the event where only the
//     webhook can settle the order; without the retries where the buyer's last word was on the
//     provider's page). Invariants over each run: at most one charge kept per
//     key, no charge without its order, a paid order has exactly its one charge and no
//     refund, no more refunds than kept charges, a refunded order exactly one, stock left +
//     held = loaded less what another buyer bought, the buyer's answers name one order and a status that only moves forward, no
//     500, nothing open after the reconciler. A new call on any path is swept without a new
//     test. On DynamoDB Local every call is swept; on the memory stores, the provider's.
//
// Tests that need DynamoDB Local skip without it, and fail under CI=true (see testenv).
// No test sleeps to synchronise; every request runs under a context with a timeout.
package faults
