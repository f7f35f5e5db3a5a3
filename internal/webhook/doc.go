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
//
// Headers are read as [strings.Join] of every value, with a case-insensitive name lookup,
// because behind API Gateway HTTP API the Lambda adapter
// (aws-lambda-go-api-proxy httpadapter.NewV2) splits header values on commas:
// `r.Header.Get("Stripe-Signature")` would return only `t=...`.
//
// Every error wraps one of the Err* sentinels; a caller maps all of them to 400. The body-size
// cap is the caller's job ([MaxBodyBytes]); acknowledging an event only once it was applied is
// the handler's.
//
// [SignStripe], [SignStandard] and [NewSecret] sign test payloads for other packages' tests and
// for local tools.
package webhook
