package docs

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// readmeMaxLines keeps the README a page an operator reads to the end;
// details belong in docs/.
const readmeMaxLines = 220

// documents are the Markdown files whose links are checked: the README, every
// file in docs/, and what they link to inside the repository.
func documents(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("no Markdown files in docs/")
	}
	return append([]string{"../README.md", "../deploy/README.md"}, docs...)
}

// parsed is one Markdown file: its links and its headings' anchors.
type parsed struct {
	links   []string
	anchors map[string]bool
}

func parse(t *testing.T, path string) parsed {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	md := goldmark.New(goldmark.WithExtensions(extension.GFM))
	doc := md.Parser().Parse(text.NewReader(src))
	p := parsed{anchors: map[string]bool{}}
	seen := map[string]int{}
	err = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			p.links = append(p.links, string(n.Destination))
		case *ast.Image:
			p.links = append(p.links, string(n.Destination))
		case *ast.Heading:
			slug := githubSlug(plainText(n, src))
			if k := seen[slug]; k > 0 {
				p.anchors[fmt.Sprintf("%s-%d", slug, k)] = true
			} else {
				p.anchors[slug] = true
			}
			seen[slug]++
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// plainText is a node's text as a reader sees it, code spans included.
func plainText(n ast.Node, src []byte) string {
	var b bytes.Buffer
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			if t, ok := c.(*ast.Text); ok {
				b.Write(t.Segment.Value(src))
			}
			if s, ok := c.(*ast.String); ok {
				b.Write(s.Value)
			}
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// githubSlug is the anchor GitHub gives a heading: lower case, letters,
// digits, '-' and '_' kept, spaces turned into '-', everything else dropped.
func githubSlug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// TestLinksResolve fails on a relative link to a file that does not exist,
// or to an anchor that no heading of its target makes.
func TestLinksResolve(t *testing.T) {
	cache := map[string]parsed{}
	get := func(path string) parsed {
		if p, ok := cache[path]; ok {
			return p
		}
		p := parse(t, path)
		cache[path] = p
		return p
	}
	checked := 0
	for _, doc := range documents(t) {
		for _, link := range get(doc).links {
			u, err := url.Parse(link)
			if err != nil {
				t.Errorf("%s: link %q: %v", doc, link, err)
				continue
			}
			if u.Scheme != "" || u.Host != "" {
				continue // the web is not this test's to check
			}
			checked++
			target := doc
			if u.Path != "" {
				target = filepath.Join(filepath.Dir(doc), u.Path)
				st, err := os.Stat(target)
				if err != nil {
					t.Errorf("%s: link %q: %s does not exist", doc, link, filepath.Clean(target))
					continue
				}
				if st.IsDir() || u.Fragment == "" {
					continue
				}
			}
			if u.Fragment == "" {
				continue
			}
			if !strings.HasSuffix(target, ".md") {
				t.Errorf("%s: link %q: an anchor into a file that is not Markdown", doc, link)
				continue
			}
			if !get(target).anchors[u.Fragment] {
				t.Errorf("%s: link %q: %s has no heading with the anchor #%s", doc, link, filepath.Clean(target), u.Fragment)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no relative link found: the parser is not reading the documents")
	}
}

// TestReadmeIsShortAndLinksEveryDocument keeps the README a page and every
// document in docs/ reachable from it.
func TestReadmeIsShortAndLinksEveryDocument(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n > readmeMaxLines {
		t.Errorf("README.md has %d lines; keep it at most %d and move details into docs/", n, readmeMaxLines)
	}
	linked := map[string]bool{}
	for _, l := range parse(t, "../README.md").links {
		linked[strings.SplitN(l, "#", 2)[0]] = true
	}
	docs, _ := filepath.Glob("*.md")
	for _, d := range docs {
		if !linked["docs/"+d] {
			t.Errorf("README.md does not link docs/%s", d)
		}
	}
}

func TestGithubSlug(t *testing.T) {
	for in, want := range map[string]string{
		"The load test: make loadtest":          "the-load-test-make-loadtest",
		"Retrying an order: Idempotency-Key":    "retrying-an-order-idempotency-key",
		"Browser front ends (CORS)":             "browser-front-ends-cors",
		"PostgreSQL failover and read replicas": "postgresql-failover-and-read-replicas",
	} {
		if got := githubSlug(in); got != want {
			t.Errorf("githubSlug(%q) = %q, want %q", in, got, want)
		}
	}
}
