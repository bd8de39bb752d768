package main

import (
	"bytes"
	"os"
	"testing"

	"minikart/configs"
	"minikart/platform/config"
)

// TestReferenceIsCurrent fails when docs/configuration.md is not what the
// configuration files and the code generate today.
func TestReferenceIsCurrent(t *testing.T) {
	var want bytes.Buffer
	if err := config.Reference(&want, configs.Files); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("docs/configuration.md is stale: run `go generate ./docs` and commit the result")
	}
}
