package test

import (
	"context"
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
