// Package readme holds the test that runs the README's commands, so the README stays a promise
// kept: `make help`, `make run`, and the curl session against it.
package readme
