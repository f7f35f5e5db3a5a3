// Package emf writes CloudWatch Embedded Metric Format blocks into log/slog lines, so that a
// JSON log line is also a metric and CloudWatch counts it without any API call.
package emf

import (
	"encoding/json"
	"log/slog"
	"time"
)

// Directive returns the constant CloudWatchMetrics directive of a line: its namespace, one set
// of dimensions (none when empty) and the Count metrics named, whose values are attributes of
// the same line. Build it once, not per line: it is encoded once, here, and every line copies
// the bytes (encoding its maps per line was a tenth of a replay's CPU).
func Directive(namespace string, dimensions []string, metrics ...string) slog.Attr {
	ms := make([]any, len(metrics))
	for i, m := range metrics {
		ms[i] = map[string]string{"Name": m, "Unit": "Count"}
	}
	if dimensions == nil {
		dimensions = []string{}
	}
	b, err := json.Marshal([]any{map[string]any{
		"Namespace": namespace, "Dimensions": [][]string{dimensions}, "Metrics": ms,
	}})
	if err != nil { // strings, slices and maps of strings always encode
		panic("emf: encode the directive: " + err.Error())
	}
	return slog.Any("CloudWatchMetrics", encoded(b))
}

// encoded is JSON encoded once: slog's JSON handler copies it (MarshalJSON), its text handler
// too (MarshalText).
type encoded []byte

func (e encoded) MarshalJSON() ([]byte, error) { return e, nil }
func (e encoded) MarshalText() ([]byte, error) { return e, nil }

// Block returns the "_aws" attribute of a line logged at now under directive.
func Block(now time.Time, directive slog.Attr) slog.Attr {
	return slog.Group("_aws", slog.Int64("Timestamp", now.UnixMilli()), directive)
}
