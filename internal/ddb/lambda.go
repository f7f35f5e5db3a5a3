package ddb

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/checkout-idem/checkout/internal/awsenv"
	"github.com/checkout-idem/checkout/internal/httpbody"
)

// NewLambdaClient returns a DynamoDB client for a Lambda function (and the local server), built
// from what the Lambda runtime puts in the environment (AWS_REGION and the execution role's AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, valid for the life of the execution environment)
// without the SDK's config package: that package links the SSO, STS and IMDS clients and adds
// about 1.8 MB to each bootstrap, which matters for cold starts. An endpoint (DynamoDB Local
// under `sam local`, `make run`, the tests) gets dummy credentials when the environment has
// none, and LocalRetryer unless AWS_MAX_ATTEMPTS or AWS_RETRY_MODE say otherwise.
//
// Like the SDK's config package, it honours AWS_MAX_ATTEMPTS (attempts per call, the first
// included; the SDK's default is 3) and AWS_RETRY_MODE (standard, the default, or adaptive);
// a value it cannot parse is an error rather than a silent default.
//
// Its HTTP client is the SDK's default transport behind httpbody.Transport, so each request
// goes out in one write rather than its headers and then its body.
func NewLambdaClient(endpoint string, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	o := dynamodb.Options{HTTPClient: &http.Client{Transport: httpbody.Transport{Next: awshttp.NewBuildableClient().GetTransport()}}}
	o.Region, o.Credentials = awsenv.Lambda(endpoint)
	if endpoint != "" {
		o.BaseEndpoint = aws.String(endpoint)
		// DynamoDB Local sends a CRC32 header that does not match its error responses; the
		// SDK would log a warning per conditional-check failure.
		o.DisableValidateResponseChecksum = true
	}
	var err error
	if o.RetryMaxAttempts, o.RetryMode, err = RetryFromEnv(); err != nil {
		return nil, err
	}
	if endpoint != "" && o.RetryMaxAttempts == 0 && o.RetryMode == "" {
		o.Retryer = LocalRetryer()
	}
	return dynamodb.New(o, optFns...), nil
}

// RetryFromEnv reads AWS_MAX_ATTEMPTS and AWS_RETRY_MODE as the SDK's config package does:
// zero and "" when unset (the SDK's defaults: 3 attempts, standard mode).
func RetryFromEnv() (maxAttempts int, mode aws.RetryMode, err error) {
	if v := strings.TrimSpace(os.Getenv("AWS_MAX_ATTEMPTS")); v != "" {
		if maxAttempts, err = strconv.Atoi(v); err != nil || maxAttempts < 1 {
			return 0, "", fmt.Errorf("ddb: AWS_MAX_ATTEMPTS=%q: want a positive integer", v)
		}
	}
	if v := strings.TrimSpace(os.Getenv("AWS_RETRY_MODE")); v != "" {
		if mode, err = aws.ParseRetryMode(v); err != nil {
			return 0, "", fmt.Errorf("ddb: AWS_RETRY_MODE=%q: want standard or adaptive", v)
		}
	}
	return maxAttempts, mode, nil
}
