package ddb

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// EndpointFromEnv returns the DynamoDB endpoint override: DYNAMODB_ENDPOINT, else the SDK's
// standard AWS_ENDPOINT_URL_DYNAMODB, else "" (the real service).
func EndpointFromEnv() string {
	if v := os.Getenv("DYNAMODB_ENDPOINT"); v != "" {
		return v
	}
	return os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
}

// NewClient returns a DynamoDB client. With an endpoint (DynamoDB Local) and no credentials in the
// environment it uses static dummy credentials and region us-east-1, so a fresh machine needs no
// AWS set-up.
func NewClient(ctx context.Context, endpoint string, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	var loadOpts []func(*config.LoadOptions) error
	if endpoint != "" {
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
			loadOpts = append(loadOpts, config.WithCredentialsProvider(
				credentials.NewStaticCredentialsProvider("local", "local", "")))
		}
		if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
			loadOpts = append(loadOpts, config.WithRegion("us-east-1"))
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("ddb: load AWS config: %w", err)
	}
	if endpoint != "" {
		optFns = append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(endpoint)
			// DynamoDB Local sends a CRC32 header that does not match its error responses; the
			// SDK would log a warning per conditional-check failure.
			o.DisableValidateResponseChecksum = true
			// Under contention for one item's transactions, DynamoDB Local answers 500 "too long
			// waiting for a lock" where DynamoDB would succeed. Retry those more, and without the
			// client-wide retry quota, which a storm of duplicates would exhaust and so turn an
			// emulator's hiccup into our 503.
			o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = 10
				so.MaxBackoff = 250 * time.Millisecond
				so.RateLimiter = ratelimit.None
			})
		}}, optFns...)
	}
	return dynamodb.NewFromConfig(cfg, optFns...), nil
}
