package catalog

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"minikart/platform/cli"
)

// newCatalogCommand is `minikart catalog import|export`.
func newCatalogCommand(st menuStore) cli.Command {
	return cli.Command{
		Name:    "catalog",
		Usage:   "import [--dry-run] [--prune] FILE | export [--format yaml|json|csv] [--out FILE]",
		Summary: "replace the menu from a YAML, JSON or CSV file in one transaction, or write the menu in that format",
		Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			err := runCatalogCommand(ctx, st, args, stdout, stderr)
			var usage usageError
			switch {
			case errors.As(err, &usage):
				fmt.Fprintln(stderr, "error:", err)
				return 2
			case err != nil:
				fmt.Fprintln(stderr, "error:", err)
				return 1
			}
			return 0
		},
	}
}

// usageError is a command line that names no valid command.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const catalogUsage = "usage: minikart catalog import [--dry-run] [--prune] FILE | export [--format yaml|json|csv] [--out FILE]"

func runCatalogCommand(ctx context.Context, st menuStore, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{catalogUsage}
	}
	fs := flag.NewFlagSet("catalog "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch args[0] {
	case "import":
		dryRun := fs.Bool("dry-run", false, "print what would change and change nothing")
		prune := fs.Bool("prune", false, "remove the products the file does not list (they are kept, marked removed)")
		if err := fs.Parse(args[1:]); err != nil {
			return usageError{err.Error()}
		}
		if fs.NArg() != 1 {
			return usageError{catalogUsage}
		}
		return importMenu(ctx, st, fs.Arg(0), *dryRun, *prune, stdout)
	case "export":
		format := fs.String("format", "", "yaml, json or csv (default: from --out's extension, else yaml)")
		out := fs.String("out", "", "file to write (default: standard output)")
		if err := fs.Parse(args[1:]); err != nil {
			return usageError{err.Error()}
		}
		if fs.NArg() != 0 {
			return usageError{catalogUsage}
		}
		return exportMenu(ctx, st, *format, *out, stdout)
	}
	return usageError{fmt.Sprintf("unknown catalog command %q\n%s", args[0], catalogUsage)}
}

// importMenu validates the whole file before it opens the transaction, and
// plans the change inside it, against the menu as it is at that moment.
func importMenu(ctx context.Context, st menuStore, path string, dryRun, prune bool, stdout io.Writer) error {
	d, err := st.ChangeMenu(ctx, func(current []menuItem, stored map[string]bool) (menuDiff, []imageFile, bool, error) {
		items, files, err := readMenu(path, stored)
		if err != nil {
			return menuDiff{}, nil, false, err
		}
		return diffMenu(current, items, prune), files, !dryRun, nil
	})
	if err != nil {
		return err
	}
	d.write(stdout)
	switch {
	case dryRun:
		fmt.Fprintln(stdout, "dry run: nothing was changed")
	case d.empty():
		fmt.Fprintln(stdout, "the menu already matches the file: nothing was changed")
	default:
		fmt.Fprintln(stdout, "imported")
	}
	return nil
}

func exportMenu(ctx context.Context, st menuStore, format, out string, stdout io.Writer) error {
	f := formatYAML
	var err error
	switch {
	case format != "":
		f, err = parseFormat(format)
	case out != "":
		f, err = formatOf(out)
	}
	if err != nil {
		return usageError{err.Error()}
	}
	items, err := st.Menu(ctx)
	if err != nil {
		return err
	}
	if out == "" {
		return writeMenu(stdout, f, items)
	}
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := writeMenu(w, f, items); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
