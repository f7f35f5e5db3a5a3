package localapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// CORS are the rules of template.yaml's CorsConfiguration, which API Gateway applies in front
// of the deployed API; the local server applies them itself. A test keeps the two in agreement.
type CORS struct {
	// AllowOrigins are the origins allowed to call the API from a browser ("*": any), like the
	// template's AllowedOrigin parameter (default "*").
	AllowOrigins  []string
	AllowMethods  []string
	AllowHeaders  []string // lowercase
	ExposeHeaders []string // lowercase
	MaxAge        int      // seconds
}

// DefaultCORS returns the template's rules with its default origin, "*".
func DefaultCORS() CORS {
	return CORS{
		AllowOrigins:  []string{"*"},
		AllowMethods:  []string{http.MethodGet, http.MethodPost},
		AllowHeaders:  []string{"authorization", "content-type", "idempotency-key"},
		ExposeHeaders: []string{"idempotent-replayed", "retry-after", "location"},
		MaxAge:        600,
	}
}

// ParseOrigins splits a comma-separated ALLOWED_ORIGIN value; empty means "*".
func ParseOrigins(v string) []string {
	var out []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		return []string{"*"}
	}
	return out
}

// wrap answers preflight requests (OPTIONS with Origin and Access-Control-Request-Method) with
// 204, carrying the allow headers only when the origin, the method and every requested header
// are allowed, as API Gateway does; and adds Access-Control-Allow-Origin and -Expose-Headers to
// other answers to an allowed origin.
func (c CORS) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		if origin != "" {
			h.Add("Vary", "Origin")
		}
		allowed := origin != "" && c.originAllowed(origin)
		method := r.Header.Get("Access-Control-Request-Method")
		if r.Method == http.MethodOptions && origin != "" && method != "" {
			if allowed && slices.Contains(c.AllowMethods, method) && c.headersAllowed(r.Header.Get("Access-Control-Request-Headers")) {
				h.Set("Access-Control-Allow-Origin", c.allowOrigin(origin))
				h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
				h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
				h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", c.allowOrigin(origin))
			h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
		}
		next.ServeHTTP(w, r)
	})
}

func (c CORS) originAllowed(origin string) bool {
	return slices.Contains(c.AllowOrigins, "*") || slices.Contains(c.AllowOrigins, origin)
}

func (c CORS) allowOrigin(origin string) string {
	if slices.Contains(c.AllowOrigins, "*") {
		return "*"
	}
	return origin
}

func (c CORS) headersAllowed(list string) bool {
	for _, name := range strings.Split(list, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "" && !slices.Contains(c.AllowHeaders, name) {
			return false
		}
	}
	return true
}
