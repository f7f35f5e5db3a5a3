// Package checkout serves the checkout API with net/http: POST /checkout creates one order and
// one charge per Idempotency-Key, and GET /orders/{id} reads an order. New returns the one
// handler; the Lambda adapter and the local server only wire it.
//
// # POST /checkout
//
//	Idempotency-Key: <1 to 255 printable ASCII characters: exactly one key, see idem.HeaderKey>
//	Content-Type: application/json
//	{"items": [{"sku": "tee-black-m", "quantity": 2}], "amount": 5000, "currency": "usd",
//	 "payment_method": "pm_card_visa", "customer_email": "buyer@example.com"}
//
// items (1 to MaxLines lines, each sku once, a quantity of 1 to MaxQuantity) and currency (a
// lowercase ISO 4217 code Stripe accepts) are required. Prices come from the catalog: amount,
// when sent, is the total the buyer was shown, and a different total answers 409 price-changed
// with the real one, before anything is reserved or charged. payment_method (pm_...) and
// customer_email are optional. Without a payment method the order is pending and the response
// carries the client secret the page confirms with. The old cart_id body is refused with a
// 400 that says so.
//
// A request is checked in this order, and nothing is claimed or stored until all checks pass
// (Stripe stores no result for a request that failed validation, so a client may fix its body
// and retry with the same key):
//
//  1. the Idempotency-Key header: 400 idempotency-key-missing or -invalid, even when the body
//     is also wrong, because a client without a key must learn that first;
//  2. the body's size: 413 above 16 KiB;
//  3. the media type: 415 unsupported-media-type unless Content-Type is application/json
//     (charset utf-8 allowed; an empty body without a type goes on to answer 400 "empty");
//  4. the body: exactly one JSON object, field names matched exactly (not case-insensitively
//     as encoding/json does), no unknown or repeated field, no trailing data, every field
//     valid: 400 invalid-request with "field" naming the culprit.
//
// Then the idempotency engine (package idem) claims the key, scoped by Scope and
// Options.Principal, and runs the payment under the claim. The engine compares repeats by the
// request's parameters, not its bytes: the fingerprint covers the method, the route and the
// five validated fields, so field order, whitespace, a trailing newline or an explicit null for
// an absent optional field replay, while any other value answers 422. The claim is one
// conditional PutItem of the record; under it, orders.Store.Reserve writes the key's order, in
// state created, with its units taken from stock, in one transaction before any money moves;
// the completion carries orders.Store.Settle (its outcome) in the record's transaction. The
// order id is a function of the scoped key (OrderID), so on DynamoDB a first checkout costs
// three requests (claim, reservation, completion) whatever the cart, and a replay one: the
// losing claim, which returns the stored answer.
//
// Answers of the payment step:
//
//	succeeded, requires_action, pending   201, order paid / requires_action / pending; stored
//	declined                              402 payment-declined with order_id; the order is
//	                                      written as failed; stored, so a retry replays the 402
//	provider unavailable or answer lost   502 payment-provider-error, Retry-After 1; nothing
//	                                      stored, the claim is released: a retry runs again
//	provider refused buyer input          400 payment-provider-refused naming the field; stored
//	                                      (a type of its own: our invalid-request is not stored)
//	provider saw the key with other data  422 idempotency-key-reused; stored
//	provider refused anything else        502 payment-provider-error, logged at error level;
//	                                      released (it is our configuration or our bug)
//
// The provider receives ProviderKey(scoped key) on every attempt, so after a lost answer (the
// provider charged, the answer never came back) the retry gets the same PaymentIntent and
// creates one order, never a second charge.
//
// # A key reused after its record expired
//
// Records are replayed for Options.TTL (24 h by default). A key reused later finds no record,
// so the claim succeeds, but the reservation finds the key's order beyond created
// (orders.ErrConflict): the handler releases the claim and answers the existing order with 200
// (the 201 body without client_secret, which is not stored), or 402 if it failed, or 422 if the
// request differs from the order in any of the fields the fingerprint covers (the order keeps
// its payment method for this). Stripe would run such a request as new; we do not, because a
// buyer retrying a day later must never be charged twice. Nothing is stored by this path.
//
// # GET /orders/{id}
//
// 200 with the order (orders.Order's JSON) and Cache-Control: no-store; 404 for an id that is
// not ord_ and 24 lowercase hex characters or that names no order.
//
// Every error is an RFC 9457 problem (package problem), including 404 for unknown paths and 405
// with an Allow header for other methods on the two routes.
package checkout
