package checkout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"regexp"
	"strconv"
	"strings"

	"github.com/checkout-idem/checkout/internal/idem"
)

// Limits of a checkout request.
const (
	MaxBody      = 16 << 10   // bytes of request body; larger answers 413
	MaxAmount    = 99_999_999 // minor units, Stripe's maximum
	MaxCartID    = 128        // characters
	MaxEmail     = 254        // characters (RFC 5321 path limit)
	orderPrefix  = "ord_"
	orderIDChars = 24 // hex characters of the scoped key in an order id
)

// request is a validated checkout body.
type request struct {
	CartID        string
	Amount        int64
	Currency      string
	PaymentMethod string
	CustomerEmail string
}

// fieldError is a 400 about one field ("" for the body as a whole).
type fieldError struct {
	Field  string
	Detail string
}

func (e *fieldError) Error() string { return e.Detail }

func invalid(field, format string, args ...any) *fieldError {
	return &fieldError{Field: field, Detail: fmt.Sprintf(format, args...)}
}

// fingerprint identifies the request's parameters for the idempotency engine: the method, the
// route and the validated fields in a fixed order, so a repeat whose JSON differs only in field
// order, whitespace, a trailing newline or an explicit null for an absent optional field
// replays, while any different value does not.
func (q request) fingerprint() string {
	canonical, _ := json.Marshal(q) // strings and an integer: cannot fail
	return idem.Fingerprint(http.MethodPost, "/checkout", canonical)
}

// checkMediaType returns why a Content-Type is not application/json ("" when it is). A charset
// parameter, if any, must be utf-8 (RFC 8259 §8.1); other parameters are ignored.
func checkMediaType(contentType string) string {
	const want = "the request body must be JSON: send Content-Type: application/json"
	if contentType == "" {
		return "no Content-Type; " + want
	}
	mt, params, err := mime.ParseMediaType(contentType)
	switch {
	case err != nil || mt != "application/json":
		return fmt.Sprintf("Content-Type %q is not supported; %s", contentType, want)
	case params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8"):
		return fmt.Sprintf("charset %q is not supported; JSON is UTF-8", params["charset"])
	}
	return ""
}

var paymentMethodRE = regexp.MustCompile(`^pm_[A-Za-z0-9_]{1,100}$`)

// parseRequest decodes and validates a checkout body strictly: exactly one JSON object, field
// names matched exactly (encoding/json would match "Amount" to amount), no unknown or repeated
// fields, no trailing data. It walks the object token by token so each error names its field.
func parseRequest(body []byte) (request, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err == io.EOF {
		return request{}, invalid("", "the request body is empty; want a JSON object")
	}
	if err != nil {
		return request{}, syntaxError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return request{}, invalid("", "the request body must be a JSON object")
	}
	raw := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return request{}, syntaxError(err)
		}
		name := tok.(string) // inside an object, a key is always a string
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return request{}, syntaxError(err)
		}
		if !known[name] {
			return request{}, invalid(name, "unknown field %q; the fields are cart_id, amount, currency, payment_method and customer_email", name)
		}
		if _, dup := raw[name]; dup {
			return request{}, invalid(name, "field %q appears more than once", name)
		}
		raw[name] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return request{}, syntaxError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return request{}, invalid("", "unexpected data after the JSON object")
	}
	return validate(raw)
}

var known = map[string]bool{"cart_id": true, "amount": true, "currency": true, "payment_method": true, "customer_email": true}

func syntaxError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return invalid("", "the request body is not valid JSON (at byte %d): %v", se.Offset, se)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
		return invalid("", "the request body ends before its JSON object does")
	}
	return invalid("", "the request body is not valid JSON: %v", err)
}

// validate checks each field; a null value counts as absent.
func validate(raw map[string]json.RawMessage) (request, error) {
	var req request
	var err error
	if req.CartID, err = stringField(raw, "cart_id", true); err != nil {
		return req, err
	}
	if n := len(req.CartID); n > MaxCartID {
		return req, invalid("cart_id", "cart_id is %d characters long; at most %d", n, MaxCartID)
	}
	for i := 0; i < len(req.CartID); i++ {
		if c := req.CartID[i]; c < 0x20 || c > 0x7e {
			return req, invalid("cart_id", "cart_id must be printable ASCII; character %d is not", i)
		}
	}

	if req.Amount, err = amountField(raw); err != nil {
		return req, err
	}

	if req.Currency, err = stringField(raw, "currency", true); err != nil {
		return req, err
	}
	if lower := strings.ToLower(req.Currency); lower != req.Currency && currencies[lower] {
		return req, invalid("currency", "currency must be lowercase: use %q instead of %q", lower, req.Currency)
	}
	if !currencies[req.Currency] {
		return req, invalid("currency", "currency %q is not a supported ISO 4217 code (three lowercase letters, e.g. usd, eur)", req.Currency)
	}

	if req.PaymentMethod, err = stringField(raw, "payment_method", false); err != nil {
		return req, err
	}
	if req.PaymentMethod != "" && !paymentMethodRE.MatchString(req.PaymentMethod) {
		return req, invalid("payment_method", "payment_method must be a PaymentMethod id: pm_ followed by 1 to 100 letters, digits or underscores")
	}

	if req.CustomerEmail, err = stringField(raw, "customer_email", false); err != nil {
		return req, err
	}
	if e := req.CustomerEmail; e != "" {
		if len(e) > MaxEmail {
			return req, invalid("customer_email", "customer_email is %d characters long; at most %d", len(e), MaxEmail)
		}
		addr, err := mail.ParseAddress(e)
		if err != nil || addr.Address != e {
			return req, invalid("customer_email", "customer_email must be a bare e-mail address such as buyer@example.com")
		}
	}
	return req, nil
}

// stringField returns the string named name; absent or null gives "" (an error when required).
func stringField(raw map[string]json.RawMessage, name string, required bool) (string, error) {
	v, ok := raw[name]
	if !ok || string(v) == "null" {
		if required {
			return "", invalid(name, "%s is required", name)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", invalid(name, "%s must be a string, not %s", name, jsonKind(v))
	}
	if required && s == "" {
		return "", invalid(name, "%s must not be empty", name)
	}
	return s, nil
}

// amountField returns amount: a JSON integer (no fraction, no exponent) from 1 to MaxAmount.
func amountField(raw map[string]json.RawMessage) (int64, error) {
	v, ok := raw["amount"]
	if !ok || string(v) == "null" {
		return 0, invalid("amount", "amount is required: an integer number of minor units, e.g. 1099 for 10.99 usd")
	}
	if kind := jsonKind(v); kind != "a number" {
		return 0, invalid("amount", "amount must be an integer number of minor units, not %s", kind)
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	var ne *strconv.NumError
	switch {
	case errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange):
		return 0, invalid("amount", "amount must be at most %d", MaxAmount)
	case err != nil:
		return 0, invalid("amount", "amount must be an integer number of minor units (e.g. 1099 for 10.99 usd), not %s", v)
	case n < 1:
		return 0, invalid("amount", "amount must be at least 1")
	case n > MaxAmount:
		return 0, invalid("amount", "amount must be at most %d", MaxAmount)
	}
	return n, nil
}

// jsonKind names the kind of a JSON value, for messages.
func jsonKind(v json.RawMessage) string {
	switch {
	case len(v) == 0:
		return "nothing"
	case v[0] == '"':
		return "a string"
	case v[0] == '{':
		return "an object"
	case v[0] == '[':
		return "an array"
	case v[0] == 't' || v[0] == 'f':
		return "a boolean"
	case v[0] == 'n':
		return "null"
	}
	return "a number"
}
