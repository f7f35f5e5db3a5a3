// Package web serves the buyer's checkout page: plain HTML, CSS and JavaScript embedded in the
// binary, with no build step. The page lists the catalog (GET /products), prices the buyer's
// cart from it and sends the cart with the total shown to the checkout API (package checkout),
// on the same origin by default or on another one (see the top of static/app.js), and keeps the API's
// promise on its side: one Idempotency-Key per purchase attempt, kept across retries and
// reloads, and no second request while one is in flight.
//
// Handler serves
//
//	GET /                 the page (Cache-Control: no-cache, so a new deployment shows at once)
//	GET /assets/{name}    app.js and style.css; the page links them as name?v=<content hash>,
//	                      which is cached for a year (immutable); any other request of an asset
//	                      is revalidated with its ETag
//
// and answers 404 to other paths and 405 to other methods. The local server mounts it at "/"
// beside the API's routes.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed static
var static embed.FS

// contentTypes names the type of every file kind the page uses, so serving does not depend on
// the system's MIME tables.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// csp allows the page's own scripts and styles only; the API may live on another origin.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' https: http://localhost:* http://127.0.0.1:*; base-uri 'none'; " +
	"form-action 'none'; frame-ancestors 'none'; object-src 'none'"

type file struct {
	name        string
	body        []byte
	contentType string
	etag        string // strong ETag: quoted hex of the content's SHA-256
	version     string // first 12 hex characters of the hash, the ?v= of the page's links
}

func newFile(name string, body []byte) *file {
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	return &file{name: name, body: body, contentType: contentTypes[path.Ext(name)], etag: `"` + h + `"`, version: h[:12]}
}

// Handler returns the handler of the page and its assets. It panics if the embedded files are
// missing, which a build that compiled cannot have.
func Handler() http.Handler {
	assets := map[string]*file{}
	entries, err := fs.ReadDir(static, "static")
	if err != nil {
		panic(fmt.Sprintf("web: embedded files: %v", err))
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "index.html" {
			continue
		}
		body, err := static.ReadFile("static/" + e.Name())
		if err != nil {
			panic(fmt.Sprintf("web: embedded files: %v", err))
		}
		assets[e.Name()] = newFile(e.Name(), body)
	}
	page, err := static.ReadFile("static/index.html")
	if err != nil {
		panic(fmt.Sprintf("web: embedded files: %v", err))
	}
	// Version the links, so browsers may keep an asset for as long as the page names it.
	for name, f := range assets {
		link := `"assets/` + name + `"`
		page = bytes.ReplaceAll(page, []byte(link), []byte(`"assets/`+name+`?v=`+f.version+`"`))
	}
	index := newFile("index.html", page)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Referrer-Policy", "no-referrer")
		serve(w, r, index)
	})
	mux.HandleFunc("GET /assets/{name}", func(w http.ResponseWriter, r *http.Request) {
		f, ok := assets[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if v := r.URL.Query().Get("v"); v != "" && v == f.version {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		serve(w, r, f)
	})
	return mux
}

// serve writes f with its type and ETag; http.ServeContent answers HEAD, If-None-Match (304)
// and ranges.
func serve(w http.ResponseWriter, r *http.Request, f *file) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}
