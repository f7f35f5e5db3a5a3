package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/catalog"
)

func TestParseReadsTheDocumentedFormat(t *testing.T) {
	ps, err := catalog.Parse([]byte(`{"products":[{"sku":"tee-black-m","name":"Black tee, M","prices":{"usd":2500,"eur":2300},"active":true,"stock":100,"shards":1},
		{"sku":"b","name":"B","prices":{"usd":50},"stock":0}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].SKU != "tee-black-m" || ps[0].Prices["eur"] != 2300 || ps[0].Stock != 100 || !ps[0].Active {
		t.Fatalf("parsed %+v", ps)
	}
	if !ps[1].Active || ps[1].Shards != 1 {
		t.Errorf("omitted active and shards = %v, %d; want true, 1", ps[1].Active, ps[1].Shards)
	}
}

func TestParseRefuses(t *testing.T) {
	const ok = `"name":"N","prices":{"usd":2500},"stock":1`
	for _, tc := range []struct{ name, file, want string }{
		{"an unknown field", `{"products":[{"sku":"a",` + ok + `,"colour":"red"}]}`, `unknown field "colour"`},
		{"an unknown top-level field", `{"products":[],"version":2}`, `unknown field "version"`},
		{"trailing data", `{"products":[]} {"products":[]}`, "data after"},
		{"trailing garbage", `{"products":[]}x`, "data after"},
		{"no products list", `{}`, `no "products"`},
		{"not JSON", `products: []`, "invalid character"},
		{"a sku with a '#'", `{"products":[{"sku":"a#1",` + ok + `}]}`, `products[0] (sku "a#1"): sku: must match`},
		{"an upper-case sku", `{"products":[{"sku":"Tee",` + ok + `}]}`, `(sku "Tee"): sku`},
		{"an empty sku", `{"products":[{"sku":"",` + ok + `}]}`, `(sku ""): sku`},
		{"a sku of 65 characters", `{"products":[{"sku":"` + strings.Repeat("a", 65) + `",` + ok + `}]}`, "sku: must match"},
		{"a duplicate sku", `{"products":[{"sku":"a",` + ok + `},{"sku":"a",` + ok + `}]}`, `products[1] (sku "a"): sku: duplicate of products[0]`},
		{"an empty name", `{"products":[{"sku":"a","name":"","prices":{"usd":2500}}]}`, `(sku "a"): name: must be 1 to 200`},
		{"a name of 201 characters", `{"products":[{"sku":"a","name":"` + strings.Repeat("é", 201) + `","prices":{"usd":2500}}]}`, "name: must be 1 to 200 characters, is 201"},
		{"no price", `{"products":[{"sku":"a","name":"N","prices":{}}]}`, "prices: at least one price"},
		{"no prices field", `{"products":[{"sku":"a","name":"N"}]}`, "prices: at least one price"},
		{"an unknown currency", `{"products":[{"sku":"a","name":"N","prices":{"xyz":2500}}]}`, "prices.xyz: unknown currency"},
		{"an upper-case currency", `{"products":[{"sku":"a","name":"N","prices":{"USD":2500}}]}`, "prices.USD: unknown currency"},
		{"a price below Stripe's minimum", `{"products":[{"sku":"a","name":"N","prices":{"usd":49}}]}`, "prices.usd: 49 is below Stripe's minimum charge of 50"},
		{"a price below the huf minimum", `{"products":[{"sku":"a","name":"N","prices":{"huf":17499}}]}`, "prices.huf: 17499 is below"},
		{"a negative price", `{"products":[{"sku":"a","name":"N","prices":{"eur":-5}}]}`, "prices.eur: -5 is below"},
		{"a price above the maximum", `{"products":[{"sku":"a","name":"N","prices":{"usd":100000000}}]}`, "prices.usd: 100000000 is above the maximum of 99999999"},
		{"a negative stock", `{"products":[{"sku":"a",` + ok + `,"stock":-1}]}`, "stock: -1 is negative"},
		{"zero shards", `{"products":[{"sku":"a",` + ok + `,"shards":0}]}`, "shards: 0 is out of range 1..32"},
		{"33 shards", `{"products":[{"sku":"a",` + ok + `,"shards":33}]}`, "shards: 33 is out of range"},
		{"a fractional stock", `{"products":[{"sku":"a",` + ok + `,"stock":1.5}]}`, "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := catalog.Parse([]byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, %v; want an error containing %q", ps, err, tc.want)
			}
		})
	}
}

func TestParseReportsEveryErrorAtOnce(t *testing.T) {
	_, err := catalog.Parse([]byte(`{"products":[
		{"sku":"ok","name":"N","prices":{"usd":2500}},
		{"sku":"B","name":"","prices":{"usd":1,"zzz":100},"stock":-2,"shards":99}]}`))
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *catalog.FieldError
		if !errors.As(e, &fe) || fe.Index != 1 || fe.SKU != "B" {
			t.Errorf("error %v does not name products[1] B", e)
			continue
		}
		fields = append(fields, fe.Field)
	}
	if got := strings.Join(fields, " "); got != "sku name prices.usd prices.zzz stock shards" {
		t.Errorf("fields at fault = %q, want every one of them", got)
	}
}

func TestTheSampleParses(t *testing.T) {
	ps, err := catalog.Parse(catalog.SampleJSON())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 5 || len(catalog.Sample()) != len(ps) {
		t.Fatalf("sample has %d products", len(ps))
	}
	var hot, inactive, small int
	for _, p := range ps {
		if p.Prices["usd"] == 0 || p.Prices["eur"] == 0 {
			t.Errorf("%s lacks a usd or eur price", p.SKU)
		}
		if p.Shards == 4 && p.Stock == 100 {
			hot++
		}
		if !p.Active {
			inactive++
		}
		if p.Active && p.Stock > 0 && p.Stock <= 5 {
			small++
		}
	}
	if hot != 1 || inactive != 1 || small < 2 {
		t.Errorf("sample: %d hot (4 shards, 100 units), %d inactive, %d with small stock; want 1, 1, >= 2", hot, inactive, small)
	}
}
