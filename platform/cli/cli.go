// Package cli lets a package contribute operator commands (`minikart <name>
// …`) through the graph, the way routes join the "routes" group: main lists
// and runs whatever the modules contribute, and knows none of them.
package cli

import (
	"context"
	"io"

	"go.uber.org/fx"
)

// Command is one `minikart <Name> …` command.
type Command struct {
	// Name is the word after minikart, such as "migrate".
	Name string
	// Usage is the arguments shown after the name in `minikart help`,
	// such as "up|down|version".
	Usage string
	// Summary is one line for `minikart help`.
	Summary string
	// Run executes the command with the arguments after its name and
	// returns the process exit status. The graph is built but not
	// started: Run opens what it needs (a pool connects on first use).
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// AsCommand annotates a constructor so its Command joins the "commands"
// group.
func AsCommand(ctor any) any {
	return fx.Annotate(ctor, fx.ResultTags(`group:"commands"`))
}

// Commands are every contributed command; populate it from the graph.
type Commands struct {
	fx.In
	All []Command `group:"commands"`
}
