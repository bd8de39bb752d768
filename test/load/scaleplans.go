package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// explainParams make every statement of a connection log its plan with
// what it really did (auto_explain, loaded per session; pgx sends unknown
// URL parameters as session settings).
const explainParams = "&session_preload_libraries=auto_explain&auto_explain.log_min_duration=0" +
	"&auto_explain.log_analyze=on&auto_explain.log_buffers=on&auto_explain.log_nested_statements=on"

// largeTables are the tables that grow with the business: a statement
// that reads one of them is one whose cost could grow.
var largeTables = []string{"products", "orders", "order_items", "idempotency_keys"}

// plans starts a server on the full database whose connections log their
// plans, makes it run each statement whose cost could grow once (a
// catalogue page and a product from the database, an order with a limited
// coupon and its read, the admin API's order listings and report, a
// limited code's counter start, the key purge), and prints the plans, with
// how many of them scan a large table whole.
func (r *scaleRun) plans(ctx context.Context) error {
	db, err := r.db(dbFull)
	if err != nil {
		return err
	}
	defer db.Close()
	// A few expired keys, so that the purge deletes some.
	if err := fillKeys(ctx, db, 3*r.o.scale.keys+1, 10, time.Now().Add(-48*time.Hour), time.Minute, r.o.scale.orders, "plan-"); err != nil {
		return err
	}
	logPath := filepath.Join(r.cluster.Dir, "server.log")
	from, err := fileSize(logPath)
	if err != nil {
		return err
	}
	srv, err := r.scaleServer(ctx, "full-plans", r.cluster.URL(dbFull)+explainParams,
		"MINIKART_CATALOG_CACHE_TTL=0s", "MINIKART_ORDERING_IDEMPOTENCY_PURGE_INTERVAL=1s",
		"MINIKART_PROMO_RULES_CODES_HAPPYHRS_MAX_REDEMPTIONS=1000000000",
		"MINIKART_PROMO_RULES_CODES_FIFTYOFF_MAX_REDEMPTIONS=1000000000")
	if err != nil {
		return err
	}
	p := strconv.Itoa(r.o.scale.products)
	for _, path := range []string{"/api/product", "/api/product?limit=9&offset=" + strconv.Itoa(r.o.scale.products/2), "/api/product/" + p} {
		if _, err := get(ctx, srv.base+path, ""); err != nil {
			return err
		}
	}
	if err := placeOrder(ctx, srv.base, `{"couponCode":"HAPPYHRS","items":[{"productId":"1","quantity":2},{"productId":"`+p+`","quantity":1}]}`); err != nil {
		return err
	}
	for _, path := range []string{"/api/admin/orders", "/api/admin/orders?coupon=HAPPYHRS", "/api/admin/orders?key=" + benchKeyID,
		"/api/admin/reports/totals"} {
		if _, err := get(ctx, srv.base+path, benchAdminKey); err != nil {
			return err
		}
	}
	// The purge runs every second and the counter of FIFTYOFF starts at
	// once, both in the background: wait until both have logged a plan.
	var b []byte
	for wait := time.Now(); ; {
		if b, err = os.ReadFile(logPath); err != nil {
			return err
		}
		log := string(b[from:])
		if strings.Contains(log, "DELETE FROM idempotency_keys") && strings.Contains(log, "count(*) FROM orders") {
			break
		}
		if time.Since(wait) > 30*time.Second {
			return fmt.Errorf("no plan of the key purge and the counter start after 30 s in %s", logPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	r.stopServers()
	plans := parsePlans(string(b[from:]))
	seq := 0
	fmt.Fprintln(r.stdout)
	fmt.Fprintln(r.stdout, "plans of the server's statements on the full database (auto_explain, with what they did):")
	for _, pl := range plans {
		fmt.Fprintln(r.stdout)
		fmt.Fprintln(r.stdout, pl)
		for _, t := range largeTables {
			if strings.Contains(pl, "Seq Scan on "+t+" ") {
				seq++
			}
		}
	}
	fmt.Fprintln(r.stdout)
	fmt.Fprintf(r.stdout, "plans: %d\nplans_seq_scans_of_large_tables: %d\n", len(plans), seq)
	return nil
}

// parsePlans finds the plans auto_explain logged in a PostgreSQL log of
// statements that read a large table, each once (by its query text), in
// the order they came, as the log has them: "duration: … plan:", the
// query text and the plan.
func parsePlans(log string) []string {
	var out []string
	seen := map[string]bool{}
	lines := strings.Split(log, "\n")
	for i := 0; i < len(lines); i++ {
		_, msg, ok := strings.Cut(lines[i], "LOG:  duration: ")
		if !ok || !strings.HasSuffix(msg, "plan:") {
			continue
		}
		var b strings.Builder
		b.WriteString("duration: " + msg)
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\t") {
			i++
			b.WriteString("\n  " + strings.TrimPrefix(lines[i], "\t"))
		}
		text := b.String()
		q := queryText(text)
		if seen[q] || !readsAny(q, largeTables) {
			continue
		}
		seen[q] = true
		out = append(out, text)
	}
	return out
}

// queryText is the query of a logged plan, its spaces folded.
func queryText(plan string) string {
	_, rest, ok := strings.Cut(plan, "Query Text: ")
	if !ok {
		return ""
	}
	var q []string
	for _, l := range strings.Split(rest, "\n") {
		// The plan starts at the first line after the text that is a
		// plan node; the text's own lines are what came before.
		t := strings.TrimSpace(l)
		if isPlanNode(t) {
			break
		}
		q = append(q, t)
	}
	return strings.Join(strings.Fields(strings.Join(q, " ")), " ")
}

// isPlanNode says whether a line of EXPLAIN's text starts a plan node.
func isPlanNode(line string) bool {
	line = strings.TrimPrefix(line, "-> ")
	_, rest, ok := strings.Cut(line, "  (cost=")
	if !ok {
		_, rest, ok = strings.Cut(line, " (cost=")
	}
	return ok && rest != ""
}

// readsAny says whether the query names one of tables.
func readsAny(q string, tables []string) bool {
	for _, t := range tables {
		for _, kw := range []string{"FROM ", "JOIN ", "INTO ", "UPDATE "} {
			if strings.Contains(q, kw+t+" ") || strings.HasSuffix(q, kw+t) || strings.Contains(q, kw+t+"\n") {
				return true
			}
		}
	}
	return false
}

// get fetches url (with an admin key when given) and wants a 200.
func get(ctx context.Context, url, key string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if key != "" {
		req.Header.Set("api_key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %.300s", url, res.Status, b)
	}
	return b, nil
}

func fileSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
