package main

import "net/http"

// pages returns the browser-facing handlers mounted next to the API.
func pages() map[string]http.Handler { return nil }
