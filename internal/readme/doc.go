// Package readme holds the test that runs README.md's quickstart as
// written, against a freshly built moat binary, with the real AWS CLI.
package readme
