package ddb_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/httpbody"
)

func TestLambdaClientHonoursTheRetryVariables(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"boom"}`))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name, attempts, mode string
		want                 int32
	}{
		{"AWS_MAX_ATTEMPTS=1 makes one request", "1", "", 1},
		{"AWS_MAX_ATTEMPTS=2 retries once", "2", "standard", 2},
		{"adaptive mode keeps the attempts", "2", "adaptive", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_MAX_ATTEMPTS", tc.attempts)
			t.Setenv("AWS_RETRY_MODE", tc.mode)
			c, err := ddb.NewLambdaClient(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if tc.mode != "" && c.Options().RetryMode != aws.RetryMode(tc.mode) {
				t.Errorf("RetryMode = %q, want %q", c.Options().RetryMode, tc.mode)
			}
			calls.Store(0)
			_, err = c.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String("t"),
				Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}})
			if err == nil || calls.Load() != tc.want {
				t.Fatalf("requests = %d (err %v), want %d", calls.Load(), err, tc.want)
			}
		})
	}
	for _, bad := range [][2]string{{"AWS_MAX_ATTEMPTS", "0"}, {"AWS_MAX_ATTEMPTS", "three"}, {"AWS_RETRY_MODE", "legacy"}} {
		t.Run(bad[0]+"="+bad[1]+" is an error naming it", func(t *testing.T) {
			t.Setenv("AWS_MAX_ATTEMPTS", "")
			t.Setenv("AWS_RETRY_MODE", "")
			t.Setenv(bad[0], bad[1])
			if _, err := ddb.NewLambdaClient(srv.URL); err == nil {
				t.Fatalf("no error for %s=%s", bad[0], bad[1])
			}
		})
	}
}

func TestLambdaClientSendsEachRequestInOneWrite(t *testing.T) {
	c, err := ddb.NewLambdaClient("http://127.0.0.1:8000")
	if err != nil {
		t.Fatal(err)
	}
	hc, ok := c.Options().HTTPClient.(*http.Client)
	if !ok {
		t.Fatalf("HTTPClient is %T, want an *http.Client", c.Options().HTTPClient)
	}
	if tr, ok := hc.Transport.(httpbody.Transport); !ok || tr.Next == nil {
		t.Errorf("the client's transport is %T (%v), want httpbody.Transport over the SDK's", hc.Transport, hc.Transport)
	}
	mine := &http.Client{}
	if c, _ := ddb.NewLambdaClient("", func(o *dynamodb.Options) { o.HTTPClient = mine }); c.Options().HTTPClient != mine {
		t.Error("an option's HTTPClient does not replace the default")
	}
}
