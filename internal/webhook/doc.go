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
package webhook
