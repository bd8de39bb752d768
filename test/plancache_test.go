package test

import (
	"context"
	"strings"
	"testing"
)

// TestSessionsPlanOnce checks database.plan_cache_mode on the server's own
// pool: a statement like a catalogue page, on a catalogue large enough that
// PostgreSQL would estimate its generic plan dearer than a custom one and
// plan it again at every execution, is planned once per session; with
// "auto" PostgreSQL does re-plan it, which is what the setting saves.
func TestSessionsPlanOnce(t *testing.T) {
	const page = `SELECT id FROM products WHERE removed_at IS NULL AND id > $1 ORDER BY id LIMIT $2`
	for _, tt := range []struct {
		mode            string
		generic, custom bool
	}{
		{"force_generic_plan", true, false},
		{"auto", false, true},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			a := startApp(t, map[string]any{"database.plan_cache_mode": tt.mode})
			ctx := context.Background()
			if _, err := a.db.ExecContext(ctx, `INSERT INTO products (name, category, price_cents, image_slug)
				SELECT 'Product ' || g, 'Cake', 100 + g % 900, 'cake' FROM generate_series(1, 20000) g`); err != nil {
				t.Fatal(err)
			}
			if _, err := a.db.ExecContext(ctx, `ANALYZE products`); err != nil {
				t.Fatal(err)
			}
			conn, err := a.db.Connx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for range 8 {
				var ids []int64
				if err := conn.SelectContext(ctx, &ids, page, 0, 5); err != nil || len(ids) != 5 {
					t.Fatalf("page: %v, %d rows", err, len(ids))
				}
			}
			var generic, custom int64
			if err := conn.QueryRowxContext(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1`, page).Scan(&generic, &custom); err != nil {
				t.Fatal(err)
			}
			if (generic > 0) != tt.generic || (custom > 0) != tt.custom {
				t.Errorf("8 executions: %d generic plans, %d custom; want generic %t, custom %t", generic, custom, tt.generic, tt.custom)
			}
		})
	}
}

// TestSessionsNeverCompile checks database.jit on the server's own pool: a
// statement whose estimate passes jit_above_cost (as a generic plan's with a
// LIMIT of unknown size does on a large table) is not compiled, since
// compiling cost tens to hundreds of milliseconds per execution of a
// statement that reads a few rows. With jit "on" (where this PostgreSQL
// has JIT at all) the same statement is compiled, so the check can fail.
func TestSessionsNeverCompile(t *testing.T) {
	const costly = `EXPLAIN SELECT count(*) FROM products a CROSS JOIN products b`
	for _, mode := range []string{"off", "on"} {
		t.Run(mode, func(t *testing.T) {
			a := startApp(t, map[string]any{"database.jit": mode})
			ctx := context.Background()
			if _, err := a.db.ExecContext(ctx, `INSERT INTO products (name, category, price_cents, image_slug)
				SELECT 'Product ' || g, 'Cake', 100, 'cake' FROM generate_series(1, 5000) g`); err != nil {
				t.Fatal(err)
			}
			if _, err := a.db.ExecContext(ctx, `ANALYZE products`); err != nil {
				t.Fatal(err)
			}
			var setting string
			var available bool
			if err := a.db.QueryRowxContext(ctx, `SELECT current_setting('jit'), pg_jit_available()`).Scan(&setting, &available); err != nil {
				t.Fatal(err)
			}
			if setting != mode {
				t.Fatalf("the session's jit is %q, want %q", setting, mode)
			}
			var lines []string
			if err := a.db.SelectContext(ctx, &lines, costly); err != nil {
				t.Fatal(err)
			}
			compiled := strings.Contains(strings.Join(lines, "\n"), "JIT:")
			if want := mode == "on" && available; compiled != want {
				t.Errorf("a statement of estimated cost past jit_above_cost compiled: %t, want %t:\n%s", compiled, want, strings.Join(lines, "\n"))
			}
		})
	}
}
