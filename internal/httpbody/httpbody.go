package httpbody

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// MaxBuffered is the largest body Transport reads into memory (DynamoDB's largest request is
// 16 MB; ours are a few KB); a longer one goes out as net/http would send it.
const MaxBuffered = 1 << 20

// Transport is an http.RoundTripper that hands Next (http.DefaultTransport when nil) each
// request body of at most MaxBuffered bytes as an in-memory reader of known length.
type Transport struct {
	Next http.RoundTripper
}

// RoundTrip implements http.RoundTripper. It does not modify r; like any RoundTripper it
// closes r's body, even on an error.
func (t Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	if r.Body == nil || r.Body == http.NoBody || len(r.TransferEncoding) > 0 || r.ContentLength > MaxBuffered {
		return next.RoundTrip(r)
	}
	// A length of 0 with a body is unknown to net/http, as is -1: stripe-go's form bodies
	// would go out chunked, in three writes.
	known := r.ContentLength > 0
	limit := r.ContentLength
	if !known {
		limit = MaxBuffered + 1
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit))
	c := new(http.Request)
	*c = *r // a shallow copy, as net/http makes one: r stays the caller's
	switch {
	case err == nil && !known && int64(len(b)) > MaxBuffered: // longer than we keep: as it was, chunked
		c.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
		return next.RoundTrip(c)
	case err == nil && known && int64(len(b)) < r.ContentLength:
		err = io.ErrUnexpectedEOF
	}
	if cerr := r.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("httpbody: reading the body of %s %s (length %d): %w", r.Method, r.URL.Redacted(), r.ContentLength, err)
	}
	c.ContentLength, c.Body = int64(len(b)), http.NoBody
	c.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	if len(b) > 0 {
		c.Body = io.NopCloser(bytes.NewReader(b))
		c.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	return next.RoundTrip(c)
}
