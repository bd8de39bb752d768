// Package configs embeds the YAML configuration files so the binary runs from
// any directory; files in ./configs (or MINIKART_CONFIG_DIR) take precedence.
package configs

import "embed"

// Files holds default.yaml and the per-environment overlays.
//
//go:embed *.yaml
var Files embed.FS
