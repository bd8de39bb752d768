// Package harness is the one way tests and tools find the repository and
// build, start and wait for the server.
package harness
