// Package emf writes CloudWatch Embedded Metric Format blocks into log/slog lines, so that a
// JSON log line is also a metric and CloudWatch counts it without any API call.
package emf

import (
	"log/slog"
	"time"
)

// Directive returns the constant CloudWatchMetrics directive of a line: its namespace, one set
// of dimensions (none when empty) and the Count metrics named, whose values are attributes of
// the same line. Build it once, not per line.
func Directive(namespace string, dimensions []string, metrics ...string) slog.Attr {
	ms := make([]any, len(metrics))
	for i, m := range metrics {
		ms[i] = map[string]string{"Name": m, "Unit": "Count"}
	}
	if dimensions == nil {
		dimensions = []string{}
	}
	return slog.Any("CloudWatchMetrics", []any{map[string]any{
		"Namespace": namespace, "Dimensions": [][]string{dimensions}, "Metrics": ms,
	}})
}

// Block returns the "_aws" attribute of a line logged at now under directive.
func Block(now time.Time, directive slog.Attr) slog.Attr {
	return slog.Group("_aws", slog.Int64("Timestamp", now.UnixMilli()), directive)
}
