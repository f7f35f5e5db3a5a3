package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/checkout-idem/checkout/internal/catalog"
	"github.com/checkout-idem/checkout/internal/problem"
	"github.com/checkout-idem/checkout/internal/stock"
	"github.com/checkout-idem/checkout/internal/testenv"
)

// sampleHandler serves the sample catalog with mug-enamel sold out.
func sampleHandler(t *testing.T) http.Handler {
	t.Helper()
	units := stock.NewMemory()
	s := catalog.NewMemoryStore(units)
	if _, err := catalog.Load(t.Context(), s, catalog.Sample()); err != nil {
		t.Fatal(err)
	}
	if err := units.Take([]stock.Draw{{SKU: "mug-enamel", Shard: 0, Units: 2}}, nil); err != nil {
		t.Fatal(err)
	}
	return catalog.Handler(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

func TestHandlerListsActiveProducts(t *testing.T) {
	w := serve(sampleHandler(t), http.MethodGet, "/products")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "public, max-age=5" {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	var out struct {
		Products []map[string]any `json:"products"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	var skus []string
	avail := map[string]any{}
	for _, p := range out.Products {
		skus = append(skus, p["sku"].(string))
		avail[p["sku"].(string)] = p["availability"]
		if len(p) != 4 || p["name"] == "" || p["prices"].(map[string]any)["usd"] == nil {
			t.Errorf("product %v, want exactly sku, name, prices, availability", p)
		}
	}
	if got := strings.Join(skus, " "); got != "hoodie-drop-01 mug-enamel sticker-pack tee-black-m tee-white-l" {
		t.Errorf("skus %q: want the active ones, sorted", got)
	}
	if avail["mug-enamel"] != catalog.SoldOut || avail["tee-white-l"] != catalog.InStock {
		t.Errorf("availability %v: want mug-enamel sold_out, tee-white-l in_stock", avail)
	}
}

func TestHandlerShowsOneProduct(t *testing.T) {
	h := sampleHandler(t)
	w := serve(h, http.MethodGet, "/products/hoodie-drop-01")
	if w.Code != 200 || w.Header().Get("Cache-Control") != "public, max-age=5" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	want := `{"sku":"hoodie-drop-01","name":"Limited drop hoodie","prices":{"eur":8200,"usd":8900},"availability":"in_stock"}` + "\n"
	if w.Body.String() != want {
		t.Errorf("body %s, want %s", w.Body, want)
	}
	if w := serve(h, http.MethodGet, "/products/mug-enamel"); !strings.Contains(w.Body.String(), `"availability":"sold_out"`) {
		t.Errorf("sold-out mug: %s", w.Body)
	}
}

func TestHandlerRefusesHostileRequests(t *testing.T) {
	h := sampleHandler(t)
	for _, target := range []string{
		"/products/nope", "/products/cap-retired", "/products/tee-black-m%230", "/products/tee-black-m%2F..",
		"/products/TEE-BLACK-M", "/products/" + strings.Repeat("a", 5000), "/products/%00", "/products/%FF%FE",
		"/products/a/b", "/products/", "/", "/productsx", "/products/..%2F..%2Fetc%2Fpasswd",
	} {
		t.Run("GET "+target[:min(len(target), 40)]+" is not found", func(t *testing.T) {
			testenv.AssertProblem(t, serve(h, http.MethodGet, target), http.StatusNotFound, problem.NotFound)
		})
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, "BREW"} {
		for _, target := range []string{"/products", "/products/tee-black-m"} {
			t.Run(m+" "+target+" is not allowed", func(t *testing.T) {
				w := serve(h, m, target)
				testenv.AssertProblem(t, w, http.StatusMethodNotAllowed, problem.MethodNotAllowed)
				if w.Header().Get("Allow") != "GET, HEAD" {
					t.Errorf("Allow = %q", w.Header().Get("Allow"))
				}
			})
		}
	}
}

// failing is a store that cannot be read.
type failing struct{ catalog.Store }

func (failing) List(context.Context) ([]catalog.Listing, error) { return nil, errors.New("boom") }
func (failing) Get(context.Context, string) (catalog.Listing, error) {
	return catalog.Listing{}, errors.New("boom")
}

func TestHandlerAnswers503WhenTheStoreFails(t *testing.T) {
	var logs testenv.LogBuffer
	h := catalog.Handler(failing{}, slog.New(slog.NewJSONHandler(&logs, nil)))
	for _, target := range []string{"/products", "/products/a"} {
		testenv.AssertProblem(t, serve(h, http.MethodGet, target), http.StatusServiceUnavailable, problem.StoreUnavailable)
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Errorf("the failure was not logged: %s", logs.String())
	}
}

func FuzzHandler(f *testing.F) {
	for _, s := range []string{"/products", "/products/tee-black-m", "/products/%", "//products", "/products/a#b"} {
		f.Add(s)
	}
	units := stock.NewMemory()
	s := catalog.NewMemoryStore(units)
	if _, err := catalog.Load(context.Background(), s, catalog.Sample()); err != nil {
		f.Fatal(err)
	}
	h := catalog.Handler(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.Fuzz(func(t *testing.T, path string) {
		r, err := http.NewRequest(http.MethodGet, "http://x/", nil)
		if err != nil {
			t.Skip()
		}
		r.URL.Path = path
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 && w.Code != 404 && w.Code != 301 && w.Code != 307 {
			t.Fatalf("%q: %d", path, w.Code)
		}
	})
}
