package catalog

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"minikart/platform/cli"
)

// newCatalogCommand is `minikart catalog import|export`.
func newCatalogCommand(st menuStore, cfg Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "replace the menu from a YAML, JSON or CSV file in one transaction, or write the menu in that format",
	}
	var dryRun, prune bool
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "replace the menu from FILE (YAML, JSON or CSV) in one transaction",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return importMenu(c.Context(), st, args[0], cfg.MaxImageBytes, dryRun, prune, c.OutOrStdout())
		},
	}
	imp.Flags().BoolVar(&dryRun, "dry-run", false, "print what would change and change nothing")
	imp.Flags().BoolVar(&prune, "prune", false, "remove the products the file does not list (they are kept, marked removed)")
	var format, out string
	exp := &cobra.Command{
		Use:   "export",
		Short: "write the menu as YAML, JSON or CSV",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return exportMenu(c.Context(), st, format, out, c.OutOrStdout())
		},
	}
	exp.Flags().StringVar(&format, "format", "", "yaml, json or csv (default: from --out's extension, else yaml)")
	exp.Flags().StringVar(&out, "out", "", "file to write (default: standard output)")
	cmd.AddCommand(imp, exp)
	return cmd
}

// importMenu validates the whole file before it opens the transaction, and
// plans the change inside it, against the menu as it is at that moment.
func importMenu(ctx context.Context, st menuStore, path string, maxImage int64, dryRun, prune bool, stdout io.Writer) error {
	d, err := st.ChangeMenu(ctx, func(current []menuItem, stored map[string]bool) (menuDiff, []imageFile, bool, error) {
		items, files, err := readMenu(path, stored, maxImage)
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
		return cli.Usagef("%s", err)
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
