package faults_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/checkout-idem/checkout/internal/ddb"
	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// failFast makes a dead endpoint fail within about a second: two attempts 10 ms apart, no
// client-side retry quota (it would otherwise run dry during the outage and stay dry after),
// and a 2 s HTTP timeout for an endpoint that accepts and never answers.
func failFast(o *dynamodb.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 2
		so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 10 * time.Millisecond, nil })
		so.RateLimiter = ratelimit.None
	})
	o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(2 * time.Second)
}

// ownDynamoDB starts a DynamoDB Local for this test alone, keeping its data in a folder so
// that it survives Stop and Restart; it is stopped when the test ends.
func ownDynamoDB(t *testing.T) *testenv.DynamoDB {
	t.Helper()
	d, err := testenv.StartDynamoDB(t.TempDir())
	if err != nil {
		if testenv.CI() {
			t.Fatalf("DynamoDB Local unavailable: %v (CI=true: failing instead of skipping)", err)
		}
		t.Skipf("DynamoDB Local unavailable: %v", err)
	}
	t.Cleanup(d.Stop)
	return d
}

func TestDynamoDBUnavailable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	db := ownDynamoDB(t)
	c, err := ddb.NewLambdaClient(db.Endpoint, failFast)
	if err != nil {
		t.Fatal(err)
	}
	s := dynamoStores(t, c)
	local := payment.NewLocal()
	h := newCheckout(s, local)

	const before, during = 3, 4
	type done struct{ key, req, res string }
	var first []done
	for i := range before {
		key := fmt.Sprintf("before-%d", i)
		req := body(1 + i)
		w := post(ctx, h, key, req)
		if w.Code != http.StatusCreated {
			t.Fatalf("%s: %d %s", key, w.Code, w.Body)
		}
		first = append(first, done{key, req, w.Body.String()})
	}
	assertCounts(t, s, local, counts{orders: before, charges: before, records: before})

	db.Stop()
	calls := local.Calls()
	t.Run("while DynamoDB is down every checkout answers 503 store-unavailable and charges nothing", func(t *testing.T) {
		for i := range during {
			key := fmt.Sprintf("during-%d", i)
			w := post(ctx, h, key, body(2+i))
			testenv.AssertProblem(t, w, http.StatusServiceUnavailable, problem.StoreUnavailable)
			if w.Header().Get("Retry-After") == "" {
				t.Fatalf("%s: 503 without Retry-After: %v", key, w.Header())
			}
		}
		// A key completed before the outage cannot be replayed either: its claim is the read.
		testenv.AssertProblem(t, post(ctx, h, first[0].key, first[0].req), http.StatusServiceUnavailable, problem.StoreUnavailable)
		if got := local.Calls(); got != calls {
			t.Fatalf("the provider was called %d times during the outage, want 0: no charge without a claim", got-calls)
		}
	})

	if err := db.Restart(); err != nil {
		t.Fatalf("restart DynamoDB Local: %v", err)
	}
	t.Run("after a restart the same keys answer 201, and earlier keys replay their 201", func(t *testing.T) {
		for i := range during {
			key := fmt.Sprintf("during-%d", i)
			if w := post(ctx, h, key, body(2+i)); w.Code != http.StatusCreated || replayed(w) {
				t.Fatalf("%s: %d %v %s, want a fresh 201", key, w.Code, w.Header(), w.Body)
			}
		}
		for _, d := range first {
			w := post(ctx, h, d.key, d.req)
			if w.Code != http.StatusCreated || !replayed(w) || w.Body.String() != d.res {
				t.Fatalf("%s: %d %s, want the replay of %s", d.key, w.Code, w.Body, d.res)
			}
		}
		if got := local.Calls() - calls; got != during {
			t.Fatalf("the provider was called %d times after the restart, want %d (one per new key)", got, during)
		}
	})
	assertCounts(t, s, local, counts{orders: before + during, charges: before + during, records: before + during})
}
