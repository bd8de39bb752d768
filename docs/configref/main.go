// Command configref writes the configuration reference, docs/configuration.md,
// from configs/*.yaml and the sections the application's packages declare
// (their plain aliases and secrets): `go generate ./docs`.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"minikart/configs"
	_ "minikart/modules" // every section, platform's and the modules', declared
	"minikart/platform/config"
)

func main() {
	out := flag.String("o", "", "file to write (default: standard output)")
	flag.Parse()
	var b bytes.Buffer
	if err := config.Reference(&b, configs.Files); err != nil {
		fmt.Fprintln(os.Stderr, "configref:", err)
		os.Exit(1)
	}
	if *out == "" {
		_, _ = os.Stdout.Write(b.Bytes())
		return
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "configref:", err)
		os.Exit(1)
	}
}
