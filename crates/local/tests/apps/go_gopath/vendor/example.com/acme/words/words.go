// Package words is a vendored dependency: it resolves only in GOPATH mode,
// under the import path Godeps names.
package words

// Hello is the greeting.
func Hello() string { return "hello from a GOPATH tree" }
