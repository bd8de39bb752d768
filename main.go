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
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/fx"

	"minikart/modules"
	"minikart/platform"
	"minikart/platform/cli"
	"minikart/platform/config"
	"minikart/platform/log"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const environmentHelp = `Configuration: configs/default.yaml, then configs/<MINIKART_ENV>.yaml
(development, test or production; MINIKART_CONFIG_DIR names another folder),
then MINIKART_<SECTION>_<KEY> for any key (minikart config print lists them).`

// run executes the command line args and returns the exit status: 0 on
// success and for --help, 2 for a usage error, 1 for any other failure.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Execute(ctx, newRoot(args, stderr), args, stdout, stderr)
}

// newRoot returns the command tree for the command line args: serve and
// config, and the commands the graph contributes, which log to stderr.
func newRoot(args []string, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "minikart",
		Short: "Mini-Kart API server and its operator commands",
		Long:  "Mini-Kart API server and its operator commands. Without a command, it serves.\n\n" + environmentHelp,
		RunE:  func(*cobra.Command, []string) error { return serve() },
	}
	root.AddCommand(serveCommand(), configCommand())
	// The server builds its own graph, started; the one of the commands
	// opens a database pool of its own, so it is built only for a command
	// line that may need it.
	if len(args) == 0 || args[0] == "serve" {
		return root
	}
	cs, err := commands(stderr)
	root.AddCommand(cs...)
	if err != nil {
		help := root.HelpFunc()
		root.SetHelpFunc(func(c *cobra.Command, args []string) {
			help(c, args)
			fmt.Fprintf(c.OutOrStdout(), "\nThe configuration is not valid, so these commands show the built-in defaults, and fail until it is:\n%v\n", err)
		})
	}
	return root
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

func serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "run the API server (the default command)",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return serve() },
	}
}

func serve() error {
	src, err := config.Load(config.Options{})
	if err != nil {
		return err
	}
	app := fx.New(appOptions(src), platform.Checks)
	if err := app.Err(); err != nil {
		return explain(err)
	}
	startCtx, cancel := context.WithTimeout(context.Background(), app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	sig := <-app.Wait()
	stopCtx, cancelStop := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancelStop()
	if err := app.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	if sig.ExitCode != 0 {
		return &cli.ExitError{Code: sig.ExitCode}
	}
	return nil
}

func configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "show the effective configuration (secrets masked) or check it",
		Long:  "Show the effective configuration (secrets masked) or check it.\n\n" + environmentHelp,
	}
	for _, sub := range []struct{ name, short string }{
		{"print", "print every key's effective value, secrets masked, and check the configuration"},
		{"validate", "check the configuration as the server would at start, and say whether it is valid"},
	} {
		cmd.AddCommand(&cobra.Command{
			Use:   sub.name,
			Short: sub.short,
			Args:  cobra.NoArgs,
			RunE: func(c *cobra.Command, _ []string) error {
				return configRun(sub.name == "print", c.OutOrStdout(), c.ErrOrStderr())
			},
		})
	}
	return cmd
}

func configRun(print bool, stdout, stderr io.Writer) error {
	src, err := config.Load(config.Options{})
	if err != nil {
		return err
	}
	// Building the graph decodes and checks every section and runs every
	// constructor, without starting anything.
	var report config.Report
	err = fx.New(appOptions(src), config.WithChecks, fx.NopLogger, fx.Populate(&report)).Err()
	if print {
		fmt.Fprintf(stdout, "# environment: %s\n", src.Env())
		for _, kv := range src.Effective() {
			fmt.Fprintf(stdout, "%s = %s\n", kv.Key, kv.Value)
		}
	}
	for _, w := range report.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if err != nil {
		return explain(err)
	}
	if !print {
		fmt.Fprintf(stdout, "configuration for %s is valid\n", src.Env())
	}
	return nil
}

// commands returns the commands the modules and platform contribute, from
// the graph built (not started) on the operator's configuration. When that
// configuration is not valid, they come from the built-in one instead, so
// that help and usage errors still answer, and each reports the
// configuration's error (also returned) when run.
func commands(stderr io.Writer) ([]*cobra.Command, error) {
	cs, err := contributed(config.Options{}, stderr)
	if err == nil {
		return cs, nil
	}
	// The built-in configuration is valid (TestBuiltinConfigurationListsTheCommands);
	// should it not be, the operator still reads the first error.
	builtin, _ := contributed(config.Options{Builtin: true}, stderr)
	for _, c := range builtin {
		refuse(c, err)
	}
	return builtin, err
}

// contributed builds the commands' graph on the configuration o chooses;
// their log goes to stderr, in lines for a person.
func contributed(o config.Options, stderr io.Writer) ([]*cobra.Command, error) {
	src, err := config.Load(o)
	if err != nil {
		return nil, err
	}
	var cs cli.Commands
	if err := fx.New(modules.Commands(src, config.Whole), log.ForCommands(stderr), fx.NopLogger, fx.Populate(&cs)).Err(); err != nil {
		return nil, explain(err)
	}
	return cs.All, nil
}

// refuse makes cmd and every command beneath it fail with err when run.
func refuse(cmd *cobra.Command, err error) {
	if cmd.Runnable() {
		cmd.Run = nil
		cmd.RunE = func(*cobra.Command, []string) error { return err }
	}
	for _, c := range cmd.Commands() {
		refuse(c, err)
	}
}
