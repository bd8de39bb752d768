package log

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"go.uber.org/fx"
)

// Human returns a writer that turns the logger's lines into short lines a
// person reads (time, level, message, fields), coloured only on a terminal.
func Human(w io.Writer) io.Writer {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = isatty.IsTerminal(f.Fd())
	}
	return zerolog.ConsoleWriter{Out: w, NoColor: !tty, TimeFormat: "15:04:05", FieldsExclude: []string{"service", "component"}}
}

// ForCommands sends the log of an operator command's graph to w as Human
// lines, for the person who ran it, instead of the server's JSON.
func ForCommands(w io.Writer) fx.Option {
	return fx.Decorate(func(l zerolog.Logger) zerolog.Logger { return l.Output(Human(w)) })
}
