package idem_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/checkout-idem/checkout/internal/idem"
)

// headerKeyCases are requests as a client sends them: the Idempotency-Key fields in order.
var headerKeyCases = []struct {
	name   string
	fields []string // nil: no header
	want   string
	err    error
	detail string // part of the error text, when err is set
}{
	{"no header is missing", nil, "", idem.ErrKeyMissing, ""},
	{"an empty field is invalid, not missing", []string{""}, "", idem.ErrKeyInvalid, "empty"},
	{"one bare key is the key", []string{"order-7f3a"}, "order-7f3a", nil, ""},
	{"one quoted key is the key", []string{`"order-7f3a"`}, "order-7f3a", nil, ""},
	{"a quoted key may hold a comma", []string{`"a,b"`}, "a,b", nil, ""},
	{"spaces next to a comma in a quoted key are dropped", []string{`"a , b"`}, "a,b", nil, ""},
	{"a bare key may not hold a comma", []string{"a,b"}, "", idem.ErrKeyInvalid, "more than one key"},
	{"two bare fields are refused", []string{"a", "b"}, "", idem.ErrKeyInvalid, "more than one key"},
	{"two equal fields are refused", []string{"a", "a"}, "", idem.ErrKeyInvalid, "more than one key"},
	{"two quoted fields are refused", []string{`"a"`, `"b"`}, "", idem.ErrKeyInvalid, "2 keys"},
	{"a quoted field and an empty one are refused", []string{`"a"`, ""}, "", idem.ErrKeyInvalid, ""},
}

// TestHeaderKeyOneKeyPerRequest reads the same requests two ways: as the local server receives
// them (one header field each) and as a Lambda function does, through an API Gateway HTTP API
// (payload 2.0: repeated fields joined with ",") and the real adapter (which splits values on
// commas). Both must give the same answer.
func TestHeaderKeyOneKeyPerRequest(t *testing.T) {
	for _, tc := range headerKeyCases {
		t.Run(tc.name, func(t *testing.T) {
			local := httptest.NewRequest(http.MethodPost, "/checkout", nil)
			for _, f := range tc.fields {
				local.Header.Add(idem.KeyHeader, f)
			}
			check(t, "local", local, tc.want, tc.err, tc.detail)

			ev := events.APIGatewayV2HTTPRequest{
				Version: "2.0", RawPath: "/checkout", Headers: map[string]string{"content-type": "application/json"},
				RequestContext: events.APIGatewayV2HTTPRequestContext{
					HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: "/checkout"},
				},
			}
			if tc.fields != nil {
				ev.Headers["idempotency-key"] = strings.Join(tc.fields, ",")
			}
			var viaLambda *http.Request
			_, err := httpadapter.NewV2(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				viaLambda = r
				w.WriteHeader(http.StatusNoContent)
			})).ProxyWithContext(context.Background(), ev)
			if err != nil || viaLambda == nil {
				t.Fatalf("adapter: %v", err)
			}
			check(t, "lambda", viaLambda, tc.want, tc.err, tc.detail)
		})
	}
}

func check(t *testing.T, via string, r *http.Request, want string, wantErr error, detail string) {
	t.Helper()
	got, err := idem.HeaderKey(r, nil)
	if got != want || !errors.Is(err, wantErr) || (err != nil && !strings.Contains(err.Error(), detail)) {
		t.Fatalf("%s: HeaderKey(%q) = %q, %v; want %q, %v (%q)", via, r.Header.Values(idem.KeyHeader), got, err, want, wantErr, detail)
	}
}
