package ddb

import (
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// EndpointFromEnv returns the DynamoDB endpoint override: DYNAMODB_ENDPOINT, else the SDK's
// standard AWS_ENDPOINT_URL_DYNAMODB, else "" (the real service).
func EndpointFromEnv() string {
	if v := os.Getenv("DYNAMODB_ENDPOINT"); v != "" {
		return v
	}
	return os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
}

// LocalRetryer is the retryer of a client of DynamoDB Local. Under contention for one item's
// transactions, DynamoDB Local answers 500 "too long waiting for a lock" where DynamoDB would
// succeed: it retries those more, and without the client-wide retry quota, which a storm of
// duplicates would exhaust and so turn an emulator's hiccup into our 503.
func LocalRetryer() aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 10
		so.MaxBackoff = 250 * time.Millisecond
		so.RateLimiter = ratelimit.None
	})
}
