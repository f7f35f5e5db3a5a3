package httpbody_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/checkout-idem/checkout/internal/httpbody"
	"github.com/stripe/stripe-go/v84"
)

// counting is an http.Transport whose connections count their writes.
func counting() (*http.Transport, *atomic.Int64) {
	var writes atomic.Int64
	var d net.Dialer
	return &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		return countingConn{c, &writes}, err
	}}, &writes
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) { c.writes.Add(1); return c.Conn.Write(p) }

// opaque hides the in-memory reader from net/http, as the SDK's and stripe-go's wrappers do.
type opaque struct{ io.Reader }

func (opaque) Close() error { return nil }

// echo answers the body it read, with the Content-Length it was sent.
func echo(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("server: %v", err)
		}
		w.Header().Set("Sent-Length", r.Header.Get("Content-Length"))
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		switch {
		case r.Header.Get("X-Amz-Target") != "":
			b = []byte("{}") // a DynamoDB answer
		case strings.HasPrefix(r.URL.Path, "/v1/"):
			b = []byte(`{"id":"pi_1","object":"payment_intent"}`) // a Stripe answer
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTransportSendsAnInMemoryBodyWithItsHeadersInOneWrite(t *testing.T) {
	srv := echo(t)
	body := `{"TableName":"orders","Item":{}}`
	for _, tc := range []struct {
		name       string
		wrap       bool
		length     int64 // ContentLength; -1: unknown (chunked)
		wantWrites int64
	}{
		{"an opaque body of known length goes out in two writes without it (the premise)", false, int64(len(body)), 2},
		{"an opaque body of known length goes out in one write with it", true, int64(len(body)), 1},
		{"a body of unknown length goes out chunked without it: headers, chunk, end", false, -1, 3},
		{"a body of unknown length (-1) goes out in one write, with its length, with it", true, -1, 1},
		{"a body of unknown length (0 and a body) goes out in one write with it", true, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, writes := counting()
			var rt http.RoundTripper = tr
			if tc.wrap {
				rt = httpbody.Transport{Next: tr}
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL, opaque{strings.NewReader(body)})
			req.ContentLength = tc.length
			resp, err := (&http.Client{Transport: rt}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(got) != body {
				t.Errorf("the server read %q, want %q", got, body)
			}
			if n := writes.Load(); n != tc.wantWrites {
				t.Errorf("%d writes on the connection, want %d", n, tc.wantWrites)
			}
			if req.Body.(opaque).Reader.(*strings.Reader).Len() != 0 {
				t.Error("the caller's body was not read")
			}
		})
	}
}

func TestTransportPassesALargeBodyThroughIntact(t *testing.T) {
	srv := echo(t)
	body := strings.Repeat("x", httpbody.MaxBuffered+1)
	for _, length := range []int64{int64(len(body)), -1} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, opaque{strings.NewReader(body)})
		req.ContentLength = length
		resp, err := (&http.Client{Transport: httpbody.Transport{}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != body {
			t.Errorf("length %d: the server read %d bytes, want %d", length, len(got), len(body))
		}
		if sent := resp.Header.Get("Sent-Length"); (length > 0) != (sent != "") {
			t.Errorf("length %d: sent with Content-Length %q", length, sent)
		}
	}
}

func TestTransportReportsABodyShorterThanItsLength(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", opaque{strings.NewReader("short")})
	req.ContentLength = 10
	_, err := httpbody.Transport{}.RoundTrip(req)
	if err == nil || !strings.Contains(err.Error(), "length 10") {
		t.Errorf("err = %v, want the short body reported", err)
	}
}

// The SDK and stripe-go hand net/http bodies it does not know are in memory: with Transport,
// each of their calls is one write.
func TestTransportMakesEachSDKAndStripeCallOneWrite(t *testing.T) {
	srv := echo(t)
	for _, wrap := range []bool{false, true} {
		tr, writes := counting()
		var rt http.RoundTripper = tr
		if wrap {
			rt = httpbody.Transport{Next: tr}
		}
		hc := &http.Client{Transport: rt}
		db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: hc,
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}, nil
			})})
		if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("orders"),
			Item: map[string]types.AttributeValue{"order_id": &types.AttributeValueMemberS{Value: "ord_1"}}}); err != nil {
			t.Fatal(err)
		}
		sdk := writes.Swap(0)
		sc := stripe.NewClient("sk_test_x", stripe.WithBackends(stripe.NewBackendsWithConfig(&stripe.BackendConfig{
			HTTPClient: hc, URL: stripe.String(srv.URL), MaxNetworkRetries: stripe.Int64(0),
			LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}})))
		if _, err := sc.V1PaymentIntents.Create(context.Background(), &stripe.PaymentIntentCreateParams{
			Amount: stripe.Int64(100), Currency: stripe.String("usd")}); err != nil {
			t.Fatal(err)
		}
		// Without it: the SDK's headers, then its body; stripe-go's form goes chunked (its
		// length unset): headers, chunk, end.
		wantSDK, wantStripe := map[bool]int64{false: 2, true: 1}[wrap], map[bool]int64{false: 3, true: 1}[wrap]
		if n := writes.Load(); sdk != wantSDK || n != wantStripe {
			t.Errorf("wrapped %t: a DynamoDB PutItem took %d writes and a Stripe call %d, want %d and %d", wrap, sdk, n, wantSDK, wantStripe)
		}
	}
}
