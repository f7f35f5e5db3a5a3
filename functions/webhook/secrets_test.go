package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/checkout-idem/checkout/internal/config"
	"github.com/checkout-idem/checkout/internal/secrets"
	"github.com/checkout-idem/checkout/internal/testenv"
	"github.com/checkout-idem/checkout/internal/webhook"
)

// As deployed: the template gives only the secret's ARN; the value comes from Secrets Manager
// (here its HTTP stand-in), is read once at init, and a rotation is picked up by the first
// delivery that no cached secret verifies, without a redeploy.
func TestSecretFromSecretsManagerIsUsedAndRotated(t *testing.T) {
	deployment(t)
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:checkout/stripe-webhook-AbCdEf"
	sm := testenv.NewSecretsManager(t)
	old, rotated := webhook.NewSecret(), webhook.NewSecret()
	sm.Set(arn, old)
	t.Setenv(secrets.EnvEndpoint, sm.URL)
	t.Setenv(config.EnvStripeWebhookSecret, "")
	t.Setenv(config.EnvStripeWebhookSecretARN, arn)
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	handler, err := newHandler(t.Context(), cfg, &logs)
	if err != nil {
		t.Fatal(err)
	}
	if n := sm.Reads(arn); n != 1 {
		t.Fatalf("reads at init = %d, want 1", n)
	}
	proxy := httpadapter.NewV2(handler).ProxyWithContext
	deliver := func(id, secret string) int {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"id": id, "object": "event", "type": "customer.created",
			"created": time.Now().Unix(), "data": map[string]any{"object": map[string]any{"id": "cus_1"}}})
		res, err := proxy(t.Context(), sampleEvent(t, body, time.Now(), secret))
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode
	}
	if got := deliver("evt_sm_1", old); got != http.StatusOK {
		t.Fatalf("delivery signed with the secret read at init: %d, want 200", got)
	}
	if n := sm.Reads(arn); n != 1 {
		t.Errorf("reads after a verified delivery = %d, want 1 (cached for the container)", n)
	}
	sm.Set(arn, rotated)
	if got := deliver("evt_sm_2", rotated); got != http.StatusOK {
		t.Fatalf("delivery signed with the rotated secret: %d, want 200 after a re-read", got)
	}
	for i := range 5 {
		if got := deliver("evt_forged_"+string(rune('a'+i)), webhook.NewSecret()); got != http.StatusBadRequest {
			t.Fatalf("forged delivery: %d, want 400", got)
		}
	}
	if n := sm.Reads(arn); n != 2 {
		t.Errorf("reads after a rotation and 5 forged deliveries = %d, want 2 (re-reads are rate-limited)", n)
	}
	if n := rejectionRecords(t, logs.String()); n != 5 {
		t.Errorf("EMF rejection records = %d, want one per forged delivery (5)", n)
	}
	for _, s := range []string{old, rotated} {
		if strings.Contains(logs.String(), s) {
			t.Fatal("a secret value was logged")
		}
	}
}

func TestInitFailsWhenTheSecretCannotBeRead(t *testing.T) {
	deployment(t)
	sm := testenv.NewSecretsManager(t) // holds no secret: ResourceNotFoundException
	t.Setenv(secrets.EnvEndpoint, sm.URL)
	t.Setenv(config.EnvStripeWebhookSecret, "")
	t.Setenv(config.EnvStripeWebhookSecretARN, "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf")
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	_, err = newHandler(t.Context(), cfg, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), config.EnvStripeWebhookSecretARN) || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("newHandler error = %v, want one naming %s and the cause", err, config.EnvStripeWebhookSecretARN)
	}
}

// rejectionRecords counts the log lines that CloudWatch would turn into one data point of
// the Rejected metric in namespace webhook.MetricsNamespace (the alarm's metric).
func rejectionRecords(t *testing.T, logs string) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec struct {
			Rejected *int
			AWS      struct {
				Timestamp         int64
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name, Unit string }
				}
			} `json:"_aws"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if rec.Rejected == nil {
			continue
		}
		m := rec.AWS.CloudWatchMetrics
		if *rec.Rejected != 1 || rec.AWS.Timestamp == 0 || len(m) != 1 || m[0].Namespace != webhook.MetricsNamespace ||
			len(m[0].Metrics) != 1 || m[0].Metrics[0].Name != "Rejected" {
			t.Fatalf("malformed EMF record: %s", line)
		}
		n++
	}
	return n
}
