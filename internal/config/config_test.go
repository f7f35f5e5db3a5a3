package config_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkout-idem/checkout/internal/config"
)

func TestFromEnv(t *testing.T) {
	t.Run("defaults need no environment", func(t *testing.T) {
		for _, k := range []string{config.EnvIdempotencyTable, config.EnvOrdersTable, config.EnvIdempotencyTTL,
			config.EnvIdempotencyWait, config.EnvDynamoDBEndpoint, "AWS_ENDPOINT_URL_DYNAMODB", config.EnvStripeWebhookSecret,
			config.EnvWebhookTolerance, config.EnvPort} {
			t.Setenv(k, "")
		}
		c, err := config.FromEnv()
		if err != nil {
			t.Fatal(err)
		}
		if c.IdempotencyTable != "checkout-idempotency" || c.OrdersTable != "checkout-orders" ||
			c.IdempotencyTTL != 24*time.Hour || c.IdempotencyWait != 5*time.Second ||
			c.WebhookTolerance != 5*time.Minute || c.Port != "3000" || c.DynamoDBEndpoint != "" {
			t.Fatalf("defaults = %+v", c)
		}
	})
	t.Run("values and lists are read and trimmed", func(t *testing.T) {
		t.Setenv(config.EnvIdempotencyTTL, "36h")
		t.Setenv(config.EnvStripeWebhookSecret, " whsec_a , whsec_b ,")
		t.Setenv(config.EnvDynamoDBEndpoint, "")
		t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:8000")
		c, err := config.FromEnv()
		if err != nil {
			t.Fatal(err)
		}
		if c.IdempotencyTTL != 36*time.Hour || !slices.Equal(c.StripeWebhookSecrets, []string{"whsec_a", "whsec_b"}) ||
			c.DynamoDBEndpoint != "http://localhost:8000" {
			t.Fatalf("got %+v", c)
		}
	})
	for _, bad := range []string{"soon", "-1h", "0s"} {
		t.Run("a duration of "+bad+" is refused, not guessed", func(t *testing.T) {
			t.Setenv(config.EnvIdempotencyTTL, bad)
			if _, err := config.FromEnv(); err == nil {
				t.Fatalf("IDEMPOTENCY_TTL=%q accepted", bad)
			}
		})
	}
}

func TestReconcilerSettings(t *testing.T) {
	t.Run("defaults: 10 minutes, 100 orders, 30 minutes in requires_action", func(t *testing.T) {
		t.Setenv(config.EnvReconcileAfter, "")
		t.Setenv(config.EnvReconcileLimit, "")
		t.Setenv(config.EnvReconcileActionTimeout, "")
		c, err := config.FromEnv()
		if err != nil || c.ReconcileAfter != 10*time.Minute || c.ReconcileLimit != 100 || c.ReconcileActionTimeout != 30*time.Minute {
			t.Fatalf("got %v, %d, %v, %v", c.ReconcileAfter, c.ReconcileLimit, c.ReconcileActionTimeout, err)
		}
	})
	t.Run("values are read", func(t *testing.T) {
		t.Setenv(config.EnvReconcileAfter, "30m")
		t.Setenv(config.EnvReconcileLimit, "25")
		t.Setenv(config.EnvReconcileActionTimeout, "2h")
		c, err := config.FromEnv()
		if err != nil || c.ReconcileAfter != 30*time.Minute || c.ReconcileLimit != 25 || c.ReconcileActionTimeout != 2*time.Hour {
			t.Fatalf("got %v, %d, %v, %v", c.ReconcileAfter, c.ReconcileLimit, c.ReconcileActionTimeout, err)
		}
	})
	t.Run("an action timeout that is not a duration is refused", func(t *testing.T) {
		t.Setenv(config.EnvReconcileActionTimeout, "half an hour")
		if _, err := config.FromEnv(); err == nil {
			t.Fatal("RECONCILE_ACTION_TIMEOUT=\"half an hour\" accepted")
		}
	})
	for _, bad := range []string{"many", "0", "-3", "1001"} {
		t.Run("a limit of "+bad+" is refused", func(t *testing.T) {
			t.Setenv(config.EnvReconcileLimit, bad)
			if _, err := config.FromEnv(); err == nil {
				t.Fatalf("RECONCILE_LIMIT=%q accepted", bad)
			}
		})
	}
}

func TestPaymentProviderAndSecrets(t *testing.T) {
	for _, v := range []string{"", "stripe", "local"} {
		t.Run("PAYMENT_PROVIDER="+v+" is accepted", func(t *testing.T) {
			t.Setenv(config.EnvPaymentProvider, v)
			if c, err := config.FromEnv(); err != nil || c.PaymentProvider != v {
				t.Fatalf("got %q, %v", c.PaymentProvider, err)
			}
		})
	}
	t.Run("another PAYMENT_PROVIDER is refused, naming the variable", func(t *testing.T) {
		t.Setenv(config.EnvPaymentProvider, "Stripe ")
		if _, err := config.FromEnv(); err == nil || !strings.Contains(err.Error(), config.EnvPaymentProvider) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("secret ARNs are read and the cache age defaults to 5m", func(t *testing.T) {
		t.Setenv(config.EnvSecretsMaxAge, "")
		t.Setenv(config.EnvStripeSecretKeyARN, " arn:aws:secretsmanager:eu-west-1:1:secret:k ")
		c, err := config.FromEnv()
		if err != nil || c.StripeSecretKeyARN != "arn:aws:secretsmanager:eu-west-1:1:secret:k" || c.SecretsMaxAge != 5*time.Minute {
			t.Fatalf("got %+v, %v", c, err)
		}
	})
}
