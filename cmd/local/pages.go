package main

import (
	"net/http"

	"github.com/checkout-idem/checkout/internal/web"
)

// pages returns the browser-facing handlers mounted next to the API: the checkout page at /.
func pages() map[string]http.Handler { return map[string]http.Handler{"/": web.Handler()} }
