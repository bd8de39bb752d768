package test

import (
	"os/exec"
	"strings"
	"testing"
)

// The quick loop must stay quick: `make test-unit` runs no package of the
// integration, fault, browser or load suites, and every other package.
func TestMakeTestUnitRunsUnitPackagesOnly(t *testing.T) {
	out, err := exec.Command("make", "-n", "-C", repoPath(""), "test-unit").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n test-unit: %v\n%s", err, out)
	}
	var pkgs []string
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "minikart") {
			pkgs = append(pkgs, f)
		}
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[p] = true
		if p == "minikart/test" || strings.HasPrefix(p, "minikart/test/") {
			t.Errorf("make test-unit runs %s, a suite that needs PostgreSQL or a server", p)
		}
	}
	for _, want := range []string{"minikart", "minikart/platform/config", "minikart/modules/promo"} {
		if !seen[want] {
			t.Errorf("make test-unit leaves out %s; it runs %v", want, pkgs)
		}
	}
}
