package catalog

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/checkout-idem/checkout/internal/problem"
)

// Availability of a product in the API.
const (
	InStock = "in_stock"
	SoldOut = "sold_out"
)

// item is a product as GET /products shows it.
type item struct {
	SKU          string           `json:"sku"`
	Name         string           `json:"name"`
	Prices       map[string]int64 `json:"prices"`
	Availability string           `json:"availability"`
}

func itemOf(l Listing) item {
	a := InStock
	if l.Available <= 0 {
		a = SoldOut
	}
	return item{SKU: l.SKU, Name: l.Name, Prices: l.Prices, Availability: a}
}

// Handler serves GET /products (the active products, sorted by sku) and GET /products/{sku}
// (one active product; 404 for an unknown, inactive or malformed sku). Answers may be cached
// for 5 s; other methods get 405 with Allow.
func Handler(store Store, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/products", get(func(w http.ResponseWriter, r *http.Request) {
		all, err := store.List(r.Context())
		if err != nil {
			unavailable(w, r, logger, err)
			return
		}
		out := struct {
			Products []item `json:"products"`
		}{Products: []item{}}
		for _, l := range all {
			if l.Active {
				out.Products = append(out.Products, itemOf(l))
			}
		}
		send(w, out)
	}))
	mux.HandleFunc("/products/{sku}", get(func(w http.ResponseWriter, r *http.Request) {
		sku := r.PathValue("sku")
		if !ValidSKU(sku) {
			notFound(w)
			return
		}
		l, err := store.Get(r.Context(), sku)
		if errors.Is(err, ErrNotFound) || (err == nil && !l.Active) {
			notFound(w)
			return
		}
		if err != nil {
			unavailable(w, r, logger, err)
			return
		}
		send(w, itemOf(l))
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { notFound(w) })
	return mux
}

// get answers 405 to every method but GET and HEAD.
func get(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			problem.Write(w, problem.New(http.StatusMethodNotAllowed, problem.MethodNotAllowed, "only GET is served here"))
			return
		}
		h(w, r)
	}
}

func send(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		problem.Write(w, problem.New(http.StatusInternalServerError, problem.Internal, ""))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=5")
	_, _ = w.Write(append(b, '\n'))
}

func notFound(w http.ResponseWriter) {
	problem.Write(w, problem.New(http.StatusNotFound, problem.NotFound, "no such product"))
}

func unavailable(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	logger.ErrorContext(r.Context(), "catalog read failed", "path", r.URL.Path, "err", err)
	problem.Write(w, problem.Problem{Type: problem.StoreUnavailable, Status: http.StatusServiceUnavailable,
		Detail: "the catalog could not be read; retry", RetryAfter: 1})
}
