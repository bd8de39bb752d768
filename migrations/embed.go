// Package migrations embeds the SQL migrations. File names carry the owning
// module: NNNN_<module>_<change>.up.sql / .down.sql.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
