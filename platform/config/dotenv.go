package config

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/joho/godotenv"
)

// defaultEnvFile is read, when it exists, from the working directory.
const defaultEnvFile = ".env"

// environment is a snapshot of the variables configuration reads: the
// process's own, over those of the .env file.
type environment struct {
	// vars holds every variable. One set to "" is kept: it sets its key to
	// empty (see decoded.setEnv), as a file's `key: ""` would.
	vars map[string]string
	// file is the .env file read, or "".
	file string
	// fromFile are the names whose value came from file.
	fromFile map[string]bool
}

// readEnvironment takes the snapshot: the file MINIKART_ENV_FILE names (an
// error when it does not exist), else ./.env when it exists. A variable the
// process has, even set to "", wins over the file's.
func readEnvironment() (environment, error) {
	e := environment{vars: map[string]string{}, fromFile: map[string]bool{}}
	for _, kv := range os.Environ() {
		name, val, _ := strings.Cut(kv, "=")
		e.vars[name] = val
	}
	path, named := e.vars[varEnvFile], true
	if path == "" {
		path, named = defaultEnvFile, false
	}
	vars, err := godotenv.Read(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && !named:
		return e, nil
	case errors.Is(err, os.ErrNotExist):
		return e, fmt.Errorf("%s names %s, which does not exist", varEnvFile, path)
	case err != nil:
		return e, fmt.Errorf("%s: %w", path, err)
	}
	e.file = path
	for name, val := range vars {
		if _, ok := e.vars[name]; ok {
			continue
		}
		e.vars[name] = val
		e.fromFile[name] = true
	}
	return e, nil
}

// describe names the variable as messages show it, with the file it came
// from when that is not the process's environment.
func (e environment) describe(name string) string {
	if e.fromFile[name] {
		return name + " (in " + e.file + ")"
	}
	return name
}
