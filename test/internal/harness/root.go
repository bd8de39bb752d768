package harness

import (
	"errors"
	"os"
	"path/filepath"
)

// RepoRoot finds the repository root by walking up from the working
// directory to go.mod, so tests (run in their package directory) and tools
// (run from anywhere inside the checkout) resolve repository paths alike.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from inside the repository")
		}
		dir = parent
	}
}
