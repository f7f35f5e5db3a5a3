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
	"slices"
	"strconv"
	"strings"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/idem"
)

// Limits of a checkout request.
const (
	MaxBody      = 16 << 10   // bytes of request body; larger answers 413
	MaxAmount    = 99_999_999 // minor units, Stripe's maximum
	MaxLines     = 20         // lines of a cart
	MaxQuantity  = 99         // units of one line
	MaxEmail     = 254        // characters (RFC 5321 path limit)
	orderPrefix  = "ord_"
	orderIDChars = 24 // hex characters of the scoped key in an order id
)

// request is a validated checkout body. Items are sorted by sku, each sku once.
type request struct {
	Items         []item
	Amount        int64 // the total the buyer was shown; 0 when not sent
	Currency      string
	PaymentMethod string
	CustomerEmail string
}

// item is one line of a cart as the buyer sends it.
type item struct {
	SKU      string
	Quantity int
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

// validPaymentMethod reports whether s is a PaymentMethod id: pm_ and 1 to 100 letters, digits
// or underscores (a loop: a compiled {1,100} would cost every cold start 1,000 allocations).
func validPaymentMethod(s string) bool {
	id, ok := strings.CutPrefix(s, "pm_")
	if !ok || len(id) == 0 || len(id) > 100 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

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
		if name == "cart_id" {
			return request{}, invalid(name, "cart_id with a client-computed amount is no longer accepted: prices come from the catalog; "+
				`send "items": [{"sku": "...", "quantity": 1}] and "currency" (and "amount", the total the buyer was shown, to be told when it changed)`)
		}
		if !known[name] {
			return request{}, invalid(name, "unknown field %q; the fields are items, currency, amount, payment_method and customer_email", name)
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

var known = map[string]bool{"items": true, "amount": true, "currency": true, "payment_method": true, "customer_email": true}

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
	if req.Items, err = itemsField(raw); err != nil {
		return req, err
	}
	if _, sent := raw["amount"]; sent && string(raw["amount"]) != "null" {
		if req.Amount, err = intField(raw, "amount", 1, MaxAmount, "an integer number of minor units, e.g. 1099 for 10.99 usd"); err != nil {
			return req, err
		}
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
	if req.PaymentMethod != "" && !validPaymentMethod(req.PaymentMethod) {
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

// intField returns the JSON integer (no fraction, no exponent) named name, from lo to hi; what
// describes it in messages.
func intField(raw map[string]json.RawMessage, name string, lo, hi int64, what string) (int64, error) {
	v, ok := raw[name]
	if !ok || string(v) == "null" {
		return 0, invalid(name, "%s is required: %s", name, what)
	}
	if kind := jsonKind(v); kind != "a number" {
		return 0, invalid(name, "%s must be %s, not %s", name, what, kind)
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	var ne *strconv.NumError
	switch {
	case errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange):
		return 0, invalid(name, "%s must be at most %d", name, hi)
	case err != nil:
		return 0, invalid(name, "%s must be %s, not %s", name, what, v)
	case n < lo:
		return 0, invalid(name, "%s must be at least %d", name, lo)
	case n > hi:
		return 0, invalid(name, "%s must be at most %d", name, hi)
	}
	return n, nil
}

// itemsField returns the cart: 1 to MaxLines objects {"sku", "quantity"}, each sku once,
// sorted by sku. Field errors name the item, e.g. items[2].quantity.
func itemsField(raw map[string]json.RawMessage) ([]item, error) {
	v, ok := raw["items"]
	if !ok || string(v) == "null" {
		return nil, invalid("items", `items is required: the cart, e.g. [{"sku": "tee-black-m", "quantity": 1}]`)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, invalid("items", "items must be an array of {\"sku\", \"quantity\"} objects, not %s", jsonKind(v))
	}
	if len(list) == 0 || len(list) > MaxLines {
		return nil, invalid("items", "items holds %d lines; from 1 to %d", len(list), MaxLines)
	}
	items := make([]item, 0, len(list))
	seen := map[string]bool{}
	for i, lv := range list {
		field := fmt.Sprintf("items[%d]", i)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(lv, &obj); err != nil || obj == nil {
			return nil, invalid(field, "%s must be an object {\"sku\", \"quantity\"}, not %s", field, jsonKind(lv))
		}
		for k := range obj {
			if k != "sku" && k != "quantity" {
				return nil, invalid(field+"."+k, "unknown field %q in %s; an item has sku and quantity", k, field)
			}
		}
		sku, err := stringField(obj, "sku", true)
		if err != nil {
			return nil, invalid(field+".sku", "%s.%s", field, err.Error())
		}
		if !catalog.ValidSKU(sku) { // never '#', which names stock shards
			return nil, invalid(field+".sku", "%s.sku %q is not a sku: 1 to 64 lowercase letters, digits, '.', '_' or '-'", field, sku)
		}
		if seen[sku] {
			return nil, invalid(field+".sku", "sku %q appears in more than one line; send it once with the total quantity", sku)
		}
		seen[sku] = true
		q, err := intField(obj, "quantity", 1, MaxQuantity, "an integer number of units")
		if err != nil {
			return nil, invalid(field+".quantity", "%s.%s", field, err.Error())
		}
		items = append(items, item{SKU: sku, Quantity: int(q)})
	}
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.SKU, b.SKU) })
	return items, nil
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
