// Package webhook verifies incoming payment webhooks and turns them into an [Event].
//
// Verification is a pure function of (headers, raw body, now, secrets): no I/O, no clock of its
// own, so tests never sleep. Two schemes are supported, each with its own [Verifier]:
//
//   - [StripeVerifier]: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 of
//     `<t>.<body>` keyed with the whole secret (`whsec_` included).
//   - [StandardVerifier]: Standard Webhooks v1 (standardwebhooks.com): `webhook-id`,
//     `webhook-timestamp`, `webhook-signature: v1,<base64> [v1,<base64>...]`, HMAC-SHA256 of
//     `<id>.<timestamp>.<body>` keyed with the base64-decoded secret after `whsec_`.
//
// Both accept several secrets at once (rotation) and reject timestamps further than the
// tolerance (default 300 s) from now in either direction: stale deliveries and far-future ones.
// Every received v1 is compared with the MAC of every secret using [crypto/hmac.Equal], without
// stopping at the first match; other schemes (Stripe's v0, Standard Webhooks' v1a) are ignored.
// The signature is checked before the timestamp, so [ErrTimestamp] means "authentic but stale".
// On success the [Delivery] carries the deduplication id: Stripe's event id (from the body,
// which must therefore parse as an [Event]) or the `webhook-id` header.
//
// Headers are read as [strings.Join] of every value, with a case-insensitive name lookup,
// because behind API Gateway HTTP API the Lambda adapter
// (aws-lambda-go-api-proxy httpadapter.NewV2) splits header values on commas:
// `r.Header.Get("Stripe-Signature")` would return only `t=...`, and a Standard Webhooks
// `v1,a v1,b` arrives as the three values `v1`, `a v1`, `b`, which joining restores.
//
// Every error wraps one of the Err* sentinels, and each of those wraps [ErrInvalid]; a caller
// maps all of them to 400 ([ErrMalformedEvent] to the event-invalid problem type, the others to
// signature-invalid). The body-size cap is the caller's job ([MaxBodyBytes]); acknowledging an
// event only once it was applied is the handler's.
//
// The checks are written here on the standard library rather than delegated to the official
// libraries, which the tests use instead as oracles (signatures made by each are verified by the
// other). stripe-go's webhook package reads the wall clock (time.Since, no injectable now),
// takes one secret per call, never rejects future timestamps, and refuses any header entry whose
// value contains '='; its event type decodes data.object into a map and would make this package
// import stripe-go, which only the payment provider does. The Standard Webhooks library
// (libraries/go v0.0.1) also reads time.Now, takes one secret, and uses Header.Get, which sees
// only the first of the adapter's split values. Wrapping either would mean re-checking the
// timestamp ourselves and rebuilding headers per secret: more code than the HMAC itself.
//
// [SignStripe], [SignStandard] and [NewSecret] sign test payloads for other packages' tests and
// for local tools.
//
// # The handler
//
// [NewHandler] serves POST /webhooks in four steps, and only acknowledges (2xx) an event once it
// was applied or deliberately ignored:
//
//  1. Verify first, over the raw bytes: the body is read up to [MaxBodyBytes] (larger: 413
//     body-too-large, the precise code; a provider treats every non-2xx alike), the scheme is
//     chosen by header presence (Stripe-Signature, else webhook-signature; neither, or a scheme
//     with no configured secret: 400 webhook-signature-invalid), then verified at Options.Now.
//     A bad, stale or far-future signature answers 400 webhook-signature-invalid, an authentic
//     body that is not an event 400 webhook-event-invalid. A rejected delivery claims and
//     changes nothing; it logs one warning line with its reason (never a secret or signature).
//  2. Deduplicate with the idempotency engine (package idem), keyed by [Delivery.ID] (Stripe's
//     event id, or webhook-id) in a scope of its own per scheme ([StripeScope],
//     [StandardScope]), never mixed with checkout keys. The engine fingerprints the parsed
//     [Event] rather than the raw body, so a redelivery whose volatile fields differ
//     (pending_webhooks) replays, while an id reused for another event answers 422.
//     Standard Webhooks deliveries must carry a Stripe-shaped event (id, type, created,
//     data.object.metadata.order_id), as a relay of Stripe events would.
//  3. Apply: payment_intent.succeeded, .payment_failed and .requires_action, and charge.refunded
//     move metadata.order_id to paid, failed, requires_action and refunded with orders'
//     Apply, which never lowers an order's rank: late and out-of-order events answer 200
//     with "applied": false. An event applies only to its own order: its PaymentIntent must
//     be the order's, or the order has none yet and amount and currency match (the intent is
//     then recorded). Any other intent answers 200 "applied": false, "reason": "another
//     payment intent", logged as a warning with the EMF metric ForeignIntent
//     ([MetricsNamespace]). charge.refunded is sent for partial refunds too: a partial one
//     (amount_refunded below the amount, refunded false) keeps the status and raises the
//     order's amount_refunded, which never decreases; a full one makes the order refunded.
//     Other event types, and events without order_id, answer 200 with a reason and are
//     stored like any answer.
//  4. A store failure answers 500 webhook-event-not-applied: the engine releases the claim, the
//     provider retries, and the retry applies.
//
// Replay window: answers are kept [DefaultTTL] (96 h), because Stripe redelivers an
// unacknowledged event for up to three days. A resend after that runs again and, Apply being
// monotonic, changes nothing.
//
// Events that overtake their order: the checkout writes its order (state created) in its
// reservation, right after it claims its key and before the charge, so an event for an
// unknown order is rare (another system's payment, or a store that lags). An event for an
// unknown order created less than Options.InFlight ago ([DefaultInFlight], 15 minutes) answers
// 503 webhook-event-not-applied with Retry-After: the claim is released and the provider's
// redelivery applies it once the order exists. An older event (or one without a created time) answers 200 "applied": false,
// "reason": "unknown order" with a warning log, so the provider does not retry it for three
// days.
package webhook
