// Package harness is the one way tests and tools find the repository,
// migrate a database, and build, start and wait for the server.
package harness
