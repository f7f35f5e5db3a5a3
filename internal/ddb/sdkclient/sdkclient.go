// Package sdkclient builds a DynamoDB client with the SDK's config package: the whole default
// chain of credentials and settings (profiles, SSO, IMDS, shared files). Only the tools that run
// on an engineer's machine against AWS use it (cmd/catalog): the config package links the SSO,
// STS and sign-in clients, whose package initialisers run on every cold start, so the Lambda
// bootstraps and the local server build their client with ddb.NewLambdaClient instead.
package sdkclient

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/checkout-idem/checkout/internal/ddb"
)

// New returns a DynamoDB client from the SDK's default configuration. With an endpoint
// (DynamoDB Local) and no credentials in the environment it uses static dummy credentials and
// region us-east-1, and the emulator's retry settings (ddb.LocalRetryer).
func New(ctx context.Context, endpoint string, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
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
		return nil, fmt.Errorf("sdkclient: load AWS config: %w", err)
	}
	if endpoint != "" {
		optFns = append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(endpoint)
			o.DisableValidateResponseChecksum = true
			o.Retryer = ddb.LocalRetryer()
		}}, optFns...)
	}
	return dynamodb.NewFromConfig(cfg, optFns...), nil
}
