package idem_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/idem"
)

func TestParseKey(t *testing.T) {
	tests := []struct {
		name, header, want string
		err                error
	}{
		{"a bare key is accepted as is", "8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324", nil},
		{"a quoted structured-field string is unquoted", `"8e03978e"`, "8e03978e", nil},
		{"escapes inside a quoted string are decoded", `"a\"b\\c"`, `a"b\c`, nil},
		{"surrounding whitespace is trimmed", "  abc\t", "abc", nil},
		{"a key may contain spaces", "a b", "a b", nil},
		{"a quoted key may contain a comma", `"a,b"`, "a,b", nil},
		{"255 characters are accepted", strings.Repeat("k", 255), strings.Repeat("k", 255), nil},
		{"an empty value is invalid", "", "", idem.ErrKeyInvalid},
		{"a blank value is invalid", "   ", "", idem.ErrKeyInvalid},
		{"a bare key with a comma is two keys", "a,b", "", idem.ErrKeyInvalid},
		{"two quoted keys are two keys", `"a","b"`, "", idem.ErrKeyInvalid},
		{"a quoted and a bare key are two keys", `"a",b`, "", idem.ErrKeyInvalid},
		{"256 characters are too long", strings.Repeat("k", 256), "", idem.ErrKeyInvalid},
		{"an empty quoted string is invalid", `""`, "", idem.ErrKeyInvalid},
		{"an unterminated quote is invalid", `"abc`, "", idem.ErrKeyInvalid},
		{"parameters on the string are invalid", `"abc";a=1`, "", idem.ErrKeyInvalid},
		{"control characters are invalid", "ab\x01c", "", idem.ErrKeyInvalid},
		{"non-ASCII is invalid", "clé", "", idem.ErrKeyInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := idem.ParseKey(tt.header)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("ParseKey(%q) = %q, %v; want %q, %v", tt.header, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestScopedKeySeparatesScopesAndCallers(t *testing.T) {
	keys := map[string]bool{}
	for _, parts := range [][3]string{
		{"POST /checkout", "", "k"}, {"POST /checkout", "alice", "k"}, {"POST /checkout", "bob", "k"},
		{"webhook:stripe", "", "k"}, {"POST /checkout", "alice:", "k"}, {"POST /checkout", "alice", ":k"},
	} {
		k := idem.ScopedKey(parts[0], parts[1], parts[2])
		if len(k) != 64 || keys[k] {
			t.Fatalf("ScopedKey%v = %s: wrong length or collision", parts, k)
		}
		keys[k] = true
	}
}

// FuzzParseKey: ParseKey never panics, and whatever it accepts is 1 to 255 printable ASCII
// characters that parse again to themselves (bare) or are a valid quoted form.
func FuzzParseKey(f *testing.F) {
	for _, seed := range []string{
		"", "abc", `"abc"`, `"a\"b"`, `"abc";x=1`, `"`, `""`, `"\`, "a, b", "\x00", "é",
		strings.Repeat("k", 255), strings.Repeat("k", 256), `"` + strings.Repeat("k", 256) + `"`,
		"?1", "123", ":aGVsbG8=:", " \t ", `"a" "b"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		key, err := idem.ParseKey(header)
		if err != nil {
			if !errors.Is(err, idem.ErrKeyMissing) && !errors.Is(err, idem.ErrKeyInvalid) {
				t.Fatalf("ParseKey(%q) returned an unclassified error %v", header, err)
			}
			return
		}
		if len(key) < 1 || len(key) > idem.MaxKeyLength {
			t.Fatalf("ParseKey(%q) accepted %d characters", header, len(key))
		}
		for i := 0; i < len(key); i++ {
			if key[i] < 0x20 || key[i] > 0x7e {
				t.Fatalf("ParseKey(%q) accepted byte %#x", header, key[i])
			}
		}
		if !strings.HasPrefix(strings.TrimSpace(key), `"`) {
			if again, err := idem.ParseKey(key); err == nil && again != strings.Trim(key, " \t") {
				t.Fatalf("ParseKey is not stable: %q -> %q -> %q", header, key, again)
			}
		}
	})
}
