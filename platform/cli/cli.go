// Package cli lets a package contribute operator commands (`minikart <name>
// …`, with subcommands and flags) through the graph, the way routes join the
// "routes" group: main assembles whatever the modules contribute under one
// cobra root, and knows none of them. Execute gives every command the same
// conventions: -h/--help answers with exit status 0, a usage error (unknown
// command or flag, wrong number of arguments) exits 2 with one line and a
// hint, and any other failure exits 1.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"go.uber.org/fx"
)

// Exit statuses every command shares.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// AsCommand annotates a constructor of a *cobra.Command so the command joins
// the "commands" group. The constructor runs whenever the graph is built,
// for help as much as for running, so it must do no I/O: the command's RunE
// does the work, with what the constructor received.
func AsCommand(ctor any) any {
	return fx.Annotate(ctor, fx.ResultTags(`group:"commands"`))
}

// Commands are every contributed command; populate it from the graph.
type Commands struct {
	fx.In
	All []*cobra.Command `group:"commands"`
}

// UsageError is a command line that asks for something the command does not
// offer; Execute prints it with a hint and exits 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ExitError ends a command with Code and prints nothing more: the command
// has said what it had to (a rejected coupon code, the server's exit on a
// signal).
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// failure marks an error a command's RunE returned, as opposed to one cobra
// found in the command line before running it.
type failure struct{ err error }

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// Execute runs the command line args on root and returns the exit status.
// It applies the shared conventions to every command under root: a command
// with subcommands and nothing of its own to run reports a missing or
// unknown subcommand as a usage error, cobra's own errors (flags, argument
// counts, unknown commands) are usage errors, and what a RunE returns is a
// failure unless it is a UsageError or an ExitError.
func Execute(ctx context.Context, root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Msg: err.Error()} })
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	walk(root)
	defaultUsage := root.UsageFunc()
	root.SetUsageFunc(func(c *cobra.Command) error {
		if c != root {
			return defaultUsage(c)
		}
		writeTree(c.OutOrStdout(), root)
		return nil
	})

	cmd, err := root.ExecuteContextC(ctx)
	var exit *ExitError
	var usage *UsageError
	var fail *failure
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &exit):
		return exit.Code
	case errors.As(err, &usage), !errors.As(err, &fail):
		fmt.Fprintf(stderr, "error: %s\n", oneLine(err.Error()))
		if cmd == nil {
			cmd = root
		}
		fmt.Fprintf(stderr, "run '%s --help' for usage\n", cmd.CommandPath())
		return ExitUsage
	}
	fmt.Fprintf(stderr, "error: %s\n", fail.err)
	return ExitFailure
}

// walk sets the conventions on cmd and every command beneath it.
func walk(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		walk(c)
	}
	switch {
	case cmd.RunE != nil:
		run := cmd.RunE
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if err := run(c, args); err != nil {
				var usage *UsageError
				var exit *ExitError
				if errors.As(err, &usage) || errors.As(err, &exit) {
					return err
				}
				return &failure{err}
			}
			return nil
		}
	case cmd.Run == nil && cmd.HasSubCommands():
		// A group: cobra would print its help and exit 0 for a missing or
		// misspelt subcommand.
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return Usagef("%s needs a command: %s", c.CommandPath(), strings.Join(names(c), ", "))
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
			c.SuggestionsMinimumDistance = 2
			if s := c.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			}
			return Usagef("%s", msg)
		}
	}
}

// writeTree is the root's usage: every command a user may run, with its
// arguments, subcommands included, so that `minikart help` lists them all.
func writeTree(w io.Writer, root *cobra.Command) {
	type line struct{ use, short string }
	var lines []line
	width := 0
	var visit func(c *cobra.Command)
	visit = func(c *cobra.Command) {
		for _, s := range c.Commands() {
			if !s.IsAvailableCommand() {
				continue
			}
			if s.Runnable() && !s.HasAvailableSubCommands() {
				use := strings.TrimPrefix(s.CommandPath()+strings.TrimPrefix(s.Use, s.Name()), root.Name()+" ")
				lines = append(lines, line{use, s.Short})
				width = max(width, len(use))
			}
			visit(s)
		}
	}
	visit(root)
	fmt.Fprintf(w, "Usage:\n  %s [command]\n\nCommands:\n", root.Name())
	for _, l := range lines {
		fmt.Fprintf(w, "  %-*s  %s\n", width, l.use, l.short)
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags and more. Exit status: 0 success, 1 failure, 2 usage error.\n", root.Name())
}

// names lists the subcommands of c a user may run.
func names(c *cobra.Command) []string {
	var out []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			out = append(out, s.Name())
		}
	}
	return out
}

// oneLine keeps the first line of cobra's messages, which append
// suggestions on lines of their own, and folds those into it.
func oneLine(msg string) string {
	first, rest, ok := strings.Cut(msg, "\n")
	if !ok {
		return msg
	}
	var sugg []string
	for _, l := range strings.Split(rest, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasSuffix(l, "?") {
			sugg = append(sugg, l)
		}
	}
	if len(sugg) > 0 {
		return first + "; did you mean " + strings.Join(sugg, " or ") + "?"
	}
	return first
}
