package config

import (
	"bytes"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/spf13/viper"

	"minikart/configs"
)

type referenceSection struct {
	Token string `mapstructure:"token" secret:"true"`
}

func TestReferenceListsEveryKeyWithItsVariableAndValues(t *testing.T) {
	// Declaring the section is what tells the reference its alias and
	// (by its type) its secret.
	_ = Section[referenceSection]("refdemo", Alias("token", "REFDEMO_TOKEN"))
	files := fstest.MapFS{
		"default.yaml": {Data: []byte(`# the file's header, not a section's comment

# What the demo section is for.
refdemo:
  # The demo token.
  token: ""
  # Pool bounds.
  max_conns: 16
  min_conns: 2
  # Limits.
  limit:
    enabled: true
    burst: 5
  origins: ["*"]
`)},
		"production.yaml": {Data: []byte("refdemo:\n  max_conns: 32\n  # Only production has it.\n  extra: x\n")},
		"test.yaml":       {Data: []byte("refdemo:\n  limit:\n    enabled: false\n")},
	}
	var b bytes.Buffer
	if err := Reference(&b, files); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"## refdemo\n\nWhat the demo section is for.\n",
		"| `refdemo.token` | `\"\"` |  |  |  | `MINIKART_REFDEMO_TOKEN` or `REFDEMO_TOKEN` | **Secret**: from the environment. The demo token. |",
		"| `refdemo.max_conns` | `16` |  |  | `32` | `MINIKART_REFDEMO_MAX_CONNS` | Pool bounds. |",
		"| `refdemo.min_conns` | `2` |  |  |  | `MINIKART_REFDEMO_MIN_CONNS` | As `refdemo.max_conns`. |",
		"| `refdemo.limit.enabled` | `true` |  | `false` |  | `MINIKART_REFDEMO_LIMIT_ENABLED` | Limits. |",
		"| `refdemo.limit.burst` | `5` |  |  |  | `MINIKART_REFDEMO_LIMIT_BURST` | As `refdemo.limit.enabled`. |",
		"| `refdemo.origins` | `[\"*\"]` |  |  |  | `MINIKART_REFDEMO_ORIGINS` |  |",
		"| `refdemo.extra` | (none) |  |  | `x` | `MINIKART_REFDEMO_EXTRA` | Only production has it. |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("reference lacks\n%s\nin\n%s", want, out)
		}
	}
	if strings.Contains(out, "header") {
		t.Errorf("the file's header comment became a section's description:\n%s", out)
	}
}

// TestReferenceCoversDefaultYAML: every key the shipped default.yaml holds
// has a row, with its variable.
func TestReferenceCoversDefaultYAML(t *testing.T) {
	var b bytes.Buffer
	if err := Reference(&b, configs.Files); err != nil {
		t.Fatal(err)
	}
	v := viper.New()
	v.SetConfigType("yaml")
	raw, _ := configs.Files.ReadFile("default.yaml")
	if err := v.ReadConfig(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	out := strings.ToLower(b.String())
	for _, key := range append(v.AllKeys(), "promo.watch_interval", "promo.build_workers", "promo.memory_budget_bytes", "app.env") {
		if !strings.Contains(out, "| `"+key+"` |") {
			t.Errorf("no row for %s", key)
		}
	}
}
