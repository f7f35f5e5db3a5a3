// Package httpbody sends an outgoing request's headers and body in one write when the body is
// already in memory.
//
// net/http writes a request's headers on their own, before it copies the body, unless the body
// is a *bytes.Reader, *bytes.Buffer or *strings.Reader (or io.NopCloser of one): for any other
// reader it cannot know that the body is ready (golang/go#22088). The AWS SDK for Go v2 and
// stripe-go both hand it a body they serialised in memory, behind their own reader types, so
// each DynamoDB call goes out as two writes and two TCP segments (aws/aws-sdk-go#3912 reports
// the same of the v1 SDK), and each Stripe call as three: stripe-go leaves the length unset, so
// its form goes chunked. The server may have to wake more than once to read one request. On a
// first checkout's three DynamoDB calls and its charge that is five extra system calls and
// segments on the path the buyer waits for.
//
// Transport reads such a body (of known or unknown length, at most MaxBuffered bytes) into a
// *bytes.Reader, sets its length, and hands net/http a copy of the request that carries it, with
// GetBody set, so net/http writes the request at once and can replay it on a fresh connection.
// Requests that ask for chunked encoding, and longer bodies, go out as before.
package httpbody
