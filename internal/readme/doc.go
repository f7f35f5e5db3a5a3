// Package readme holds the tests that keep the README and docs/ promises kept: the targets they
// name are in `make help`, `make run` and the README's curl session work as shown, every
// relative link resolves (files and headings), and the benchmark figures of docs/benchmarks.md
// are those of the committed run (bench/REPORT.md, bench/idem.txt).
package readme
