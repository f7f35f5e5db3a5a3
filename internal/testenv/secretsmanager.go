package testenv

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// SecretsManager is a stand-in for AWS Secrets Manager's GetSecretValue over HTTP, reached
// through AWS_ENDPOINT_URL_SECRETSMANAGER: it checks what the real service would (the target
// header and a SigV4 Authorization header for the secretsmanager service) and answers the
// current value of a secret, or ResourceNotFoundException. Set rotates a secret.
type SecretsManager struct {
	URL string

	mu     sync.Mutex
	values map[string]string
	reads  map[string]int
}

// NewSecretsManager starts the stand-in for the test's duration.
func NewSecretsManager(t testing.TB) *SecretsManager {
	t.Helper()
	s := &SecretsManager{values: map[string]string{}, reads: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Set makes value the current version of the secret id (create or rotate).
func (s *SecretsManager) Set(id, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[id] = value
}

// Reads returns how many GetSecretValue calls named id.
func (s *SecretsManager) Reads(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads[id]
}

func (s *SecretsManager) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	}
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
		fail(http.StatusBadRequest, "UnknownOperationException", "want POST with X-Amz-Target secretsmanager.GetSecretValue")
		return
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=") || !strings.Contains(auth, "/secretsmanager/aws4_request") {
		fail(http.StatusForbidden, "MissingAuthenticationTokenException", "request not signed for secretsmanager")
		return
	}
	var in struct{ SecretId string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.SecretId == "" {
		fail(http.StatusBadRequest, "InvalidParameterException", "SecretId required")
		return
	}
	s.mu.Lock()
	s.reads[in.SecretId]++
	v, ok := s.values[in.SecretId]
	s.mu.Unlock()
	if !ok {
		fail(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"ARN": in.SecretId, "Name": in.SecretId, "SecretString": v, "VersionId": "v1"})
}
