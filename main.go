// Command minikart is the Mini-Kart API server and its operator commands.
//
//	minikart [serve]                 run the server
//	minikart config print|validate   show or check the effective configuration
//	minikart <command> …             a command a module contributes (minikart help lists them)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"go.uber.org/fx"

	"minikart/modules"
	"minikart/platform"
	"minikart/platform/cli"
	"minikart/platform/config"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usageHead = `usage: minikart [command]

commands:
  serve                      run the API server (default)
  config print|validate      show the effective configuration (secrets masked) or check it
`

const usageTail = `
environment: MINIKART_ENV (development|test|production), MINIKART_CONFIG_DIR,
MINIKART_<SECTION>_<KEY> for any key (see README, Configuration).
A command other than serve and config exits 2 when the configuration is invalid.
`

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(stderr)
	case "config":
		return configCmd(args, stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	return contributed(cmd, args, stdout, stderr)
}

// appOptions is the composition root: the application's graph, as a whole,
// so a section no package declares is an error.
func appOptions(src *config.Source) fx.Option {
	return modules.App(src, config.Whole)
}

// explain returns the configuration's own error when err holds one, so an
// operator reads the keys to fix rather than the graph's wiring.
func explain(err error) error {
	var ce *config.Error
	if errors.As(err, &ce) {
		return ce
	}
	return err
}

func serve(stderr io.Writer) int {
	src, err := config.Load(config.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	app := fx.New(appOptions(src), platform.Checks)
	if err := app.Err(); err != nil {
		fmt.Fprintln(stderr, "error:", explain(err))
		return 1
	}
	startCtx, cancel := context.WithTimeout(context.Background(), app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		fmt.Fprintln(stderr, "error: start:", err)
		return 1
	}
	sig := <-app.Wait()
	stopCtx, cancelStop := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancelStop()
	if err := app.Stop(stopCtx); err != nil {
		fmt.Fprintln(stderr, "error: stop:", err)
		return 1
	}
	return sig.ExitCode
}

func configCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || (args[0] != "print" && args[0] != "validate") {
		fmt.Fprintln(stderr, "error: usage: minikart config print|validate")
		if len(args) == 1 {
			fmt.Fprintf(stderr, "unknown config command %q (want print or validate)\n", args[0])
		}
		return 1
	}
	src, err := config.Load(config.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	// Building the graph decodes and checks every section and runs every
	// constructor, without starting anything.
	var report config.Report
	err = fx.New(appOptions(src), config.WithChecks, fx.NopLogger, fx.Populate(&report)).Err()
	if args[0] == "print" {
		fmt.Fprintf(stdout, "# environment: %s\n", src.Env())
		for _, kv := range src.Effective() {
			fmt.Fprintf(stdout, "%s = %s\n", kv.Key, kv.Value)
		}
	}
	for _, w := range report.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if err != nil {
		fmt.Fprintln(stderr, "error:", explain(err))
		return 1
	}
	if args[0] == "validate" {
		fmt.Fprintf(stdout, "configuration for %s is valid\n", src.Env())
	}
	return 0
}

// commands builds the graph, without starting it, and returns the commands
// the modules and platform contribute, sorted by name.
func commands() ([]cli.Command, error) {
	src, err := config.Load(config.Options{})
	if err != nil {
		return nil, err
	}
	var cs cli.Commands
	if err := fx.New(appOptions(src), fx.NopLogger, fx.Populate(&cs)).Err(); err != nil {
		return nil, explain(err)
	}
	sort.Slice(cs.All, func(i, j int) bool { return cs.All[i].Name < cs.All[j].Name })
	return cs.All, nil
}

func contributed(name string, args []string, stdout, stderr io.Writer) int {
	cs, err := commands()
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 2
	}
	for _, c := range cs {
		if c.Name == name {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return c.Run(ctx, args, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n", name)
	writeUsage(stderr, cs, nil)
	return 2
}

func usage(w io.Writer) {
	cs, err := commands()
	writeUsage(w, cs, err)
}

func writeUsage(w io.Writer, cs []cli.Command, err error) {
	fmt.Fprint(w, usageHead)
	for _, c := range cs {
		head := c.Name
		if c.Usage != "" {
			head += " " + c.Usage
		}
		if len(head) > 26 {
			fmt.Fprintf(w, "  %s\n  %-26s %s\n", head, "", c.Summary)
		} else {
			fmt.Fprintf(w, "  %-26s %s\n", head, c.Summary)
		}
	}
	if err != nil {
		fmt.Fprintf(w, "  (the other commands are listed once the configuration is valid:\n   %v)\n", err)
	}
	fmt.Fprint(w, usageTail)
}
