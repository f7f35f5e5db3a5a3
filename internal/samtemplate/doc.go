// Package samtemplate holds the test that keeps template.yaml and the code in agreement.
package samtemplate
