package secrets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/checkout-idem/checkout/internal/awsenv"
)

// EnvEndpoint is the SDK's standard variable for another Secrets Manager endpoint (a stand-in
// in tests); AWS_ENDPOINT_URL, the SDK's endpoint for every service, is honoured after it.
const EnvEndpoint = "AWS_ENDPOINT_URL_SECRETSMANAGER"

// Fetcher reads the current value of one secret. *Client implements it.
type Fetcher interface {
	GetSecretValue(ctx context.Context, id string) (string, error)
}

// Client calls Secrets Manager's GetSecretValue. It is safe for concurrent use.
type Client struct {
	endpoint, region string
	creds            aws.CredentialsProvider
	http             *http.Client
	signer           *v4.Signer
}

var _ Fetcher = (*Client)(nil)

// NewLambdaClient returns a Client built from what the Lambda runtime puts in the environment
// (AWS_REGION and the execution role's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), like ddb.NewLambdaClient. AWS_ENDPOINT_URL_SECRETSMANAGER (or
// AWS_ENDPOINT_URL) replaces the regional endpoint; with one and no credentials in the
// environment, dummy credentials and us-east-1 are used.
func NewLambdaClient() *Client {
	endpoint := os.Getenv(EnvEndpoint)
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	region, creds := awsenv.Lambda(endpoint)
	if endpoint == "" {
		endpoint = "https://secretsmanager." + region + ".amazonaws.com"
	}
	return &Client{
		endpoint: strings.TrimSuffix(endpoint, "/"),
		region:   region,
		creds:    creds,
		http:     &http.Client{Timeout: 5 * time.Second},
		signer:   v4.NewSigner(),
	}
}

// ErrNoString is returned for a secret that holds binary data rather than a string.
var ErrNoString = errors.New("secrets: the secret has no SecretString")

// GetSecretValue returns the SecretString of the current version of the secret id (an ARN or
// a name). Errors name the secret and Secrets Manager's error type, never a value.
func (c *Client) GetSecretValue(ctx context.Context, id string) (string, error) {
	body, err := json.Marshal(map[string]string{"SecretId": id})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("secrets: %s: %w", id, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("secrets: credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "secretsmanager", c.region, time.Now()); err != nil {
		return "", fmt.Errorf("secrets: sign: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("secrets: GetSecretValue %s: %w", id, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("secrets: GetSecretValue %s: %w", id, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
			Msg     string `json:"Message"`
		}
		_ = json.Unmarshal(b, &e)
		return "", fmt.Errorf("secrets: GetSecretValue %s: HTTP %d %s %s", id, resp.StatusCode, e.Type, e.Message+e.Msg)
	}
	var out struct {
		SecretString *string
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", fmt.Errorf("secrets: GetSecretValue %s: malformed answer: %w", id, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("%w: %s", ErrNoString, id)
	}
	return *out.SecretString, nil
}
