// Package idem makes HTTP handlers idempotent with a durable record per key: the durable cousin
// of singleflight. [Middleware] wraps a handler; a [Store] keeps the records ([DynamoStore] in
// production, [MemoryStore] for the local server and fast tests; both pass one contract suite).
//
// # What duplicates do
//
// A POST must carry one Idempotency-Key (1 to 255 printable ASCII characters, bare or as an
// RFC 9651 quoted string; a bare key may not contain a comma, so that two header fields are
// refused alike locally and behind API Gateway; see [HeaderKey] and [ParseKey]). The stored key is [ScopedKey] of the route, the
// caller's identity and the client key, so callers never see each other's answers.
//
//   - First request: one conditional write claims the key (IN_PROGRESS, with the request's
//     fingerprint, by default [Fingerprint] of method, path and body, or Config.Fingerprint;
//     an owner token and a lease), the handler runs, and its response is stored
//     (COMPLETED) on condition that the claim is still ours.
//   - Repeat after completion, same fingerprint: the stored status, headers and body
//     are replayed byte for byte, with "Idempotent-Replayed: true". With DynamoDB this costs one
//     request: the losing claim returns the record (ReturnValuesOnConditionCheckFailure ALL_OLD).
//   - Repeat while the first still runs: it waits (polling with backoff, at most Config.Wait and
//     never past its own deadline) and replays the result; if the first is still running after
//     that, 409 with Retry-After.
//   - Same key, different request: 422, nothing runs.
//   - A claim whose lease ran out (its Lambda timed out or crashed) is taken over by the next
//     request; the old owner's completion is then refused, so it can never overwrite the
//     result of the request that took over, and it answers with that result instead.
//   - A record past its TTL (expires_at, 24 h by default) counts as absent even while
//     DynamoDB's lagging TTL deletion has not removed it.
//
// # What is stored
//
// Responses with status below 500 are stored and replayed, except 429: a declined card (402) or
// a rejected order (4xx) is an answer. A 5xx or 429, a panic (answered as a 500 problem without
// a stack trace) and a request whose context was cancelled release the claim with a conditional
// delete, so the client's retry runs the handler again. The middleware's own answers (400 for a
// missing or malformed key, 413, 409, 422, 503) are never stored, and handlers should validate
// their input before the middleware claims (wrap it), as Stripe does.
//
// Bodies above 16 KiB are stored gzipped; a response still larger than [MaxStored] compressed
// reaches its caller but is recorded as too large, and replays answer 409
// (/problems/response-not-replayable) instead of failing at completion on DynamoDB's 400 KB
// item limit.
//
// # Writing with the completion
//
// A handler can [Attach] writes to other tables; they commit in the same TransactWriteItems as
// the stored response, or not at all. Config.Guard adds writes to the claim itself: checkout
// uses one to refuse a claim when the key's order already exists.
//
// # Observability
//
// Each request logs one JSON line (log/slog) with its [Outcome] and a CloudWatch Embedded
// Metric Format block, so CloudWatch counts requests per outcome without any API call.
package idem
