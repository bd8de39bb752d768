package harness

import (
	"database/sql"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver sql.Open names

	"minikart/platform/db"
)

// Migrate runs step (Up, Down, Force…) with the project's migrations on the
// database at url, over a connection of its own that it closes.
func Migrate(url string, step func(*db.Migrator) error) error {
	conn, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	mg, err := db.NewMigrator(conn)
	if err != nil {
		conn.Close()
		return err
	}
	defer mg.Close()
	return step(mg)
}
