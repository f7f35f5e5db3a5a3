package secrets_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/secrets"
	"github.com/checkout-idem/checkout/internal/testenv"
)

const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:checkout/stripe-AbCdEf"

func newClient(t *testing.T) (*secrets.Client, *testenv.SecretsManager) {
	t.Helper()
	sm := testenv.NewSecretsManager(t)
	t.Setenv(secrets.EnvEndpoint, sm.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	return secrets.NewLambdaClient(), sm
}

func TestClientReadsTheCurrentValueThroughTheEndpointVariable(t *testing.T) {
	c, sm := newClient(t)
	sm.Set(arn, "sk_test_one")
	got, err := c.GetSecretValue(context.Background(), arn)
	if err != nil || got != "sk_test_one" {
		t.Fatalf("GetSecretValue = %q, %v; want sk_test_one", got, err)
	}
	_, err = c.GetSecretValue(context.Background(), arn+"-missing")
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("unknown secret: err = %v, want ResourceNotFoundException", err)
	}
}

func TestValueIsReadOnceThenOnlyWhenOldOrRefreshed(t *testing.T) {
	c, sm := newClient(t)
	sm.Set(arn, "whsec_one")
	clock := testenv.NewClock(time.Now())
	ctx := context.Background()
	v, err := secrets.Load(ctx, c, arn, secrets.Options{MaxAge: 5 * time.Minute, MinInterval: time.Minute,
		Now: clock.Now, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if got := v.Get(ctx); got != "whsec_one" {
			t.Fatalf("Get = %q", got)
		}
	}
	if n := sm.Reads(arn); n != 1 {
		t.Errorf("reads after Load and 10 Gets = %d, want 1 (cached per container)", n)
	}

	sm.Set(arn, "whsec_two") // rotated
	if !v.Refresh(ctx) || v.Get(ctx) != "whsec_two" {
		t.Errorf("first Refresh: value %q, want the rotated whsec_two", v.Get(ctx))
	}
	sm.Set(arn, "whsec_2b")
	for range 5 {
		if v.Refresh(ctx) {
			t.Error("a Refresh within MinInterval of the last one re-read the secret")
		}
	}
	if n := sm.Reads(arn); n != 2 {
		t.Errorf("reads = %d, want 2 (Load, one Refresh)", n)
	}
	clock.Add(time.Minute)
	if !v.Refresh(ctx) || v.Get(ctx) != "whsec_2b" {
		t.Errorf("Refresh after MinInterval: value %q, want whsec_2b", v.Get(ctx))
	}

	sm.Set(arn, "whsec_three")
	clock.Add(4 * time.Minute)
	if got := v.Get(ctx); got != "whsec_2b" {
		t.Errorf("Get before MaxAge = %q, want the cached whsec_2b", got)
	}
	clock.Add(time.Minute)
	if got := v.Get(ctx); got != "whsec_three" {
		t.Errorf("Get after MaxAge = %q, want whsec_three (a rotation needs no redeploy)", got)
	}
}

func TestValueKeepsTheCachedValueWhenARereadFails(t *testing.T) {
	sm := testenv.NewSecretsManager(t)
	sm.Set(arn, "sk_test_one")
	f := &flaky{Fetcher: clientFor(t, sm)}
	clock := testenv.NewClock(time.Now())
	v, err := secrets.Load(context.Background(), f, arn, secrets.Options{Now: clock.Now,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	f.fail = true
	clock.Add(secrets.DefaultMaxAge)
	if got := v.Get(context.Background()); got != "sk_test_one" {
		t.Errorf("Get with Secrets Manager down = %q, want the cached value", got)
	}
}

func TestLoadFailsWhenTheSecretCannotBeRead(t *testing.T) {
	c, _ := newClient(t)
	if _, err := secrets.Load(context.Background(), c, arn, secrets.Options{}); err == nil {
		t.Fatal("Load of a missing secret succeeded; a function must not start without its secret")
	}
}

func clientFor(t *testing.T, sm *testenv.SecretsManager) *secrets.Client {
	t.Setenv(secrets.EnvEndpoint, sm.URL)
	return secrets.NewLambdaClient()
}

type flaky struct {
	secrets.Fetcher
	fail bool
}

func (f *flaky) GetSecretValue(ctx context.Context, id string) (string, error) {
	if f.fail {
		return "", errors.New("unavailable")
	}
	return f.Fetcher.GetSecretValue(ctx, id)
}
