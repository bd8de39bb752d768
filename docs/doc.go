// Package docs holds the documents beside the README. Its tests keep them
// true: every link resolves, the README stays short, and configuration.md is
// what the code generates.
package docs

//go:generate go run ./configref -o configuration.md
