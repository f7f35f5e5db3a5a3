package testenv

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestStripeMockAnswersTheStripeAPI(t *testing.T) {
	base := StripeMock(t)
	form := url.Values{"amount": {"1000"}, "currency": {"usd"}}
	req, err := http.NewRequest(http.MethodPost, base+"/v1/payment_intents", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("sk_test_123", "")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/payment_intents: status %d, want 200", res.StatusCode)
	}
}

func TestStripeMockIsSharedByTheTestBinary(t *testing.T) {
	if a, b := StripeMock(t), StripeMock(t); a != b {
		t.Fatalf("two calls returned %q and %q, want one shared instance", a, b)
	}
}
