package localapi

import (
	"fmt"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/checkout-idem/checkout/internal/problem"
)

// canonicalPath answers 404 to a path that is not in canonical form, where http.ServeMux would
// redirect to the cleaned path (a 301 with a text body). API Gateway has no such redirect.
func canonicalPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if r.Method != http.MethodConnect && p != cleanPath(p) {
			problem.Write(w, problem.New(http.StatusNotFound, problem.NotFound,
				fmt.Sprintf("no such resource: %s (not a canonical path)", p)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cleanPath is path.Clean keeping a trailing slash, as http.ServeMux cleans.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// checkHeaders answers 400 invalid-request to a header value holding a control character other
// than tab. net/http's server refuses most such requests itself, before any handler runs, with
// a plain-text 400 that no handler can change; this catches the rest (a request built by
// another transport, such as a Lambda adapter, or by a test).
func checkHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for name, values := range r.Header {
			for _, v := range values {
				if i := controlChar(v); i >= 0 {
					p := problem.New(http.StatusBadRequest, problem.InvalidRequest,
						fmt.Sprintf("header %s holds a control character (byte %d)", name, i))
					p.Field = name
					problem.Write(w, p)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// controlChar returns the index of the first control character of v other than tab, or -1.
func controlChar(v string) int {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return i
		}
	}
	return -1
}

// problems sends every answer of 400 or more that is not already a problem (http.ServeMux's
// 404 and 405, http.NotFound, http.ServeContent's 416) as a problem with the same status.
func problems(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&problemWriter{ResponseWriter: w, r: r}, r)
	})
}

type problemWriter struct {
	http.ResponseWriter
	r        *http.Request
	wrote    bool
	replaced bool // the handler's body is dropped: a problem was sent instead
}

func (w *problemWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	h := w.Header()
	if code < 400 || isProblem(h.Get("Content-Type")) {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.replaced = true
	h.Del("Content-Length")
	problem.Write(w.ResponseWriter, statusProblem(code, w.r, h.Get("Allow")))
}

func (w *problemWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *problemWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func isProblem(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == problem.ContentType
}

// statusProblem is the problem standing in for a plain answer with status code.
func statusProblem(code int, r *http.Request, allow string) problem.Problem {
	switch {
	case code == http.StatusNotFound:
		return problem.New(code, problem.NotFound, "no such resource: "+r.URL.Path)
	case code == http.StatusMethodNotAllowed:
		return problem.New(code, problem.MethodNotAllowed,
			fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow))
	case code >= 500:
		return problem.New(code, problem.Internal, "the request failed")
	}
	return problem.New(code, problem.InvalidRequest, http.StatusText(code))
}
