// Package idem runs work once per key, durably: the durable cousin of singleflight. [Group.Do]
// is the core, for any caller (a scheduled job, a queue message, an event); [Middleware] is a
// thin HTTP adapter over it. A [Store] keeps the records ([DynamoStore] in production,
// [MemoryStore] for the local server and fast tests; both pass one contract suite).
//
// # Keys
//
// Over HTTP a POST must carry one Idempotency-Key (1 to 255 printable ASCII characters, bare or
// as an RFC 9651 quoted string; a bare key may not contain a comma, so that two header fields
// are refused alike locally and behind API Gateway; see [HeaderKey] and [ParseKey]). The stored
// key is [ScopedKey] of the route, the caller's identity and the client key, so callers never
// see each other's answers. The fingerprint is [Fingerprint] of method, path and body, or
// Config.Fingerprint (checkout fingerprints the validated parameters, not the bytes).
//
// # What duplicates do
//
//   - First call: one conditional write claims the key (IN_PROGRESS, with the call's
//     fingerprint, an owner token and a lease), the function runs, and its result is stored
//     (COMPLETED) on condition that the claim is still ours.
//   - Repeat after completion with the same fingerprint: the stored result is returned, marked
//     replayed. With DynamoDB this costs one request: the losing claim returns the record
//     (ReturnValuesOnConditionCheckFailure ALL_OLD).
//   - Repeat while the first still runs: it waits (polling with jittered backoff, at most
//     Options.Wait and never past its own deadline) and returns the result; if the first is
//     still running after that, [ErrInProgress] with [RetryAfter].
//   - Same key, another fingerprint: [ErrMismatch], nothing runs.
//   - A claim whose lease ran out (its process died) is taken over by the next call; the old
//     owner's completion is then refused ([ErrLeaseLost], or the new owner's result), so it can
//     never overwrite the result of the call that took over.
//   - A claim written but whose answer was lost (the SDK retries it and finds the record with
//     its own owner token) counts as claimed.
//   - A record past its TTL (expires_at, 24 h by default) counts as absent even while
//     DynamoDB's lagging TTL deletion has not removed it.
//
// # Time budget
//
// The lease ends at the caller's deadline (in Lambda, the invocation's), or after Options.Lease.
// The function runs with a deadline [Reserve] (2 s) earlier, so its completion or release always
// runs while the claim is still its own.
//
// # What is stored
//
// A function's result is stored when it returns no error, even if its caller went away
// meanwhile: the work was done. An error or a panic releases the claim with a conditional
// delete, so the next call runs again. Bodies above 16 KiB are stored gzipped; a body still
// larger than [MaxStored] compressed is not stored, and replays return [ErrTooLarge].
//
// The HTTP middleware stores responses below 500 except 429 (a declined card is an answer);
// a 5xx, a 429 or a panic (answered as a 500 problem without a stack trace) releases the claim.
// Its own answers (400 for a missing or malformed key, 413, 409, 422, 503) are never stored.
// Replays carry "Idempotent-Replayed: true".
//
// # Writing with the claim and the completion
//
// Writes to other tables ([Write]) commit in the same transaction as the claim (Call.With, or
// Config.Guard) or the completion ([Attach]), or not at all. A store takes one kind of write
// (a types.TransactWriteItem for DynamoStore, a func() error for MemoryStore) and refuses any
// other with [ErrWriteKind]; [Store.Accepts] lets wiring code check once at start-up. Checkout
// claims with a bare PutItem (a replay is that one write), reserves its order and stock in a
// transaction of its own right after it, before any money moves, and attaches the order's
// outcome to the completion.
//
// # Observability
//
// The middleware logs one JSON line (log/slog) per request with its [Outcome] and a CloudWatch
// Embedded Metric Format block, so CloudWatch counts requests per outcome without any API call.
package idem
