// Package faults holds no code: its tests prove the promise "charged exactly once" under the
// failures a serverless checkout meets in production, each injected deterministically (fault
// hooks of payment.Local, channels, an injected clock, a DynamoDB Local that is stopped and
// restarted), and each ending with exact counts of orders (testenv.Orders Count), charges
// (payment.Local Created) and stored idempotency records (a Scan COUNT of the table, or
// idem.MemoryStore Len).
//
//   - DynamoDB unavailable (TestDynamoDBUnavailable): a DynamoDB Local of the test's own, on a
//     data folder, is stopped mid-run. Checkouts answer 503 store-unavailable with Retry-After
//     and the provider is never called, because nothing is charged without a successful claim.
//     After a restart the same keys answer 201 (new ones) or replay (old ones): one order, one
//     charge and one record per distinct key.
//   - Process killed mid-checkout (TestProcessKilledAfterTheCharge): a Lambda that dies after
//     the provider charged and before the completion is simulated in process: the provider
//     call is held after the charge (payment.Fault AfterCharge with a Release channel the test
//     does not close) and the clock shared by checkout and idem moves past the claim's lease,
//     which is the request's context deadline, as in Lambda. The retry takes over, gets the
//     same PaymentIntent (the provider key derives from the scoped key) and answers 201; the
//     stuck request, released or cancelled at last, cannot complete. On memory and DynamoDB.
//   - Slow provider (TestSlowProvider): concurrent duplicates with a short idempotency Wait
//     answer 409 with Retry-After while the first request is held, and the first's 201 bytes
//     once it is released; the provider is called once.
//   - Webhook application fails midway (TestWebhookApplyFailsOnce): the order store fails one
//     Apply (an injected error, or a DynamoDB Local stopped during the Apply and restarted
//     before the answer); the delivery answers 500 webhook-event-not-applied and its claim is
//     released, so the provider's redelivery (new timestamp, new signature) applies it, once.
//   - Killed while the provider holds the charge, and nobody comes back
//     (TestKilledCheckoutSettledByTheReconciler): the order exists from the claim on, created;
//     the reconciler alone finds the charge and marks it paid; the buyer's later retry gets
//     that order, and the provider was charged once.
//
// Tests that need DynamoDB Local skip without it, and fail under CI=true (see testenv).
// No test sleeps to synchronise; every request runs under a context with a timeout.
package faults
