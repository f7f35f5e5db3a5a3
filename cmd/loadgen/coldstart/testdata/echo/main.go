// Command echo is a minimal Lambda function for the coldstart tests: it answers every event
// with an API Gateway response whose body is the event, or exits at init when ECHO_CRASH is set.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	if os.Getenv("ECHO_CRASH") != "" {
		os.Exit(3)
	}
	lambda.Start(func(_ context.Context, ev json.RawMessage) (map[string]any, error) {
		if string(ev) == `"fail"` {
			return nil, os.ErrInvalid
		}
		return map[string]any{"statusCode": 200, "body": string(ev)}, nil
	})
}
