package harness

import (
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Compose is the part of the repository's docker-compose.yml the tests
// read.
type Compose struct {
	Services map[string]ComposeService `yaml:"services"`
}

// ComposeService is one service of docker-compose.yml, anchors merged.
type ComposeService struct {
	Image       string            `yaml:"image"`
	Build       string            `yaml:"build"`
	Entrypoint  []string          `yaml:"entrypoint"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
}

// ReadCompose reads docker-compose.yml from the checkout at root.
func ReadCompose(root string) (Compose, error) {
	var c Compose
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		return c, err
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("docker-compose.yml: %w", err)
	}
	return c, nil
}
