package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/checkout-idem/checkout/internal/payment"
	"github.com/checkout-idem/checkout/internal/stock"
)

// Product is one thing the checkout sells.
type Product struct {
	SKU  string `json:"sku"`
	Name string `json:"name"`
	// Prices maps a currency (lowercase ISO 4217) to the price in its minor unit.
	Prices map[string]int64 `json:"prices"`
	Active bool             `json:"active"`
	// Stock is the total of units ever loaded (not what is left: see Listing.Available).
	Stock int `json:"stock"`
	// Shards is the number of stock shards, 1..stock.MaxShards.
	Shards int `json:"shards"`
}

// Limits of a product's fields.
const (
	MaxName  = 200      // characters
	MaxPrice = 99999999 // minor units
)

// SKURule is what ValidSKU accepts, as a pattern for error messages.
const SKURule = `^[a-z0-9][a-z0-9._-]{0,63}$`

// ValidSKU reports whether sku is one a catalog may hold (SKURule; never a shard key: no '#').
// It is a loop rather than a regexp: compiling {0,63} costs every cold start 700 allocations.
func ValidSKU(sku string) bool {
	if len(sku) == 0 || len(sku) > 64 {
		return false
	}
	for i := 0; i < len(sku); i++ {
		c := sku[i]
		lowerOrDigit := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if !lowerOrDigit && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

// file is the catalog file: {"products":[...]}. Active and Shards are pointers so that an
// omitted field takes its default (true, 1) and an explicit one is checked.
type file struct {
	Products []fileProduct `json:"products"`
}

type fileProduct struct {
	SKU    string           `json:"sku"`
	Name   string           `json:"name"`
	Prices map[string]int64 `json:"prices"`
	Active *bool            `json:"active"`
	Stock  int              `json:"stock"`
	Shards *int             `json:"shards"`
}

// Parse reads a catalog file:
//
//	{"products":[{"sku":"tee-black-m","name":"Black tee, M","prices":{"usd":2500,"eur":2300},
//	  "active":true,"stock":100,"shards":1}]}
//
// active defaults to true and shards to 1 when omitted. Unknown fields and trailing data are
// refused. Every invalid field of every product is reported (errors.Join), each naming the
// product's index and sku, so a file can be fixed in one go.
func Parse(data []byte) ([]Product, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("catalog: data after the catalog object")
	}
	if f.Products == nil {
		return nil, errors.New(`catalog: no "products" list`)
	}
	out := make([]Product, len(f.Products))
	for i, fp := range f.Products {
		p := Product{SKU: fp.SKU, Name: fp.Name, Prices: fp.Prices, Active: true, Stock: fp.Stock, Shards: 1}
		if fp.Active != nil {
			p.Active = *fp.Active
		}
		if fp.Shards != nil {
			p.Shards = *fp.Shards
		}
		out[i] = p
	}
	if err := Validate(out); err != nil {
		return nil, err
	}
	return out, nil
}

// FieldError is one invalid field of one product.
type FieldError struct {
	Index int    // position in the file
	SKU   string // as given
	Field string // "sku", "name", "prices", "prices.usd", "stock", "shards"
	Msg   string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("catalog: products[%d] (sku %q): %s: %s", e.Index, e.SKU, e.Field, e.Msg)
}

// Validate checks products as Parse does, and is what Load checks before writing anything.
func Validate(products []Product) error {
	var errs []error
	bad := func(i int, p Product, field, format string, args ...any) {
		errs = append(errs, &FieldError{Index: i, SKU: p.SKU, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]int{}
	for i, p := range products {
		switch {
		case !ValidSKU(p.SKU):
			bad(i, p, "sku", "must match %s", SKURule)
		case seen[p.SKU] > 0:
			bad(i, p, "sku", "duplicate of products[%d]", seen[p.SKU]-1)
		default:
			seen[p.SKU] = i + 1
		}
		if n := utf8.RuneCountInString(p.Name); n < 1 || n > MaxName || !utf8.ValidString(p.Name) {
			bad(i, p, "name", "must be 1 to %d characters, is %d", MaxName, n)
		}
		if len(p.Prices) == 0 {
			bad(i, p, "prices", "at least one price is needed")
		}
		for _, cur := range slices.Sorted(maps.Keys(p.Prices)) {
			amount := p.Prices[cur]
			minimum, known := payment.MinimumCharge(cur)
			switch {
			case !known:
				bad(i, p, "prices."+cur, "unknown currency (want a lowercase ISO 4217 code Stripe charges in)")
			case amount < minimum:
				bad(i, p, "prices."+cur, "%d is below Stripe's minimum charge of %d", amount, minimum)
			case amount > MaxPrice:
				bad(i, p, "prices."+cur, "%d is above the maximum of %d", amount, MaxPrice)
			}
		}
		if p.Stock < 0 {
			bad(i, p, "stock", "%d is negative", p.Stock)
		}
		if p.Shards < 1 || p.Shards > stock.MaxShards {
			bad(i, p, "shards", "%d is out of range 1..%d", p.Shards, stock.MaxShards)
		}
	}
	return errors.Join(errs...)
}

//go:embed sample.json
var sample []byte

// Sample returns the sample catalog (sample.json): a few products in usd and eur, some with
// little stock, one hot product in 4 shards and one inactive.
func Sample() []Product {
	p, err := Parse(sample)
	if err != nil {
		panic("catalog: sample.json: " + err.Error()) // a test keeps it valid
	}
	return p
}

// SampleJSON returns sample.json as embedded.
func SampleJSON() []byte { return slices.Clone(sample) }

// same reports whether a and b describe the same product, stock and shards aside.
func same(a, b Product) bool {
	return a.SKU == b.SKU && a.Name == b.Name && a.Active == b.Active && maps.Equal(a.Prices, b.Prices)
}
