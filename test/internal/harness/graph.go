package harness

// UnusedDatabaseURL is a valid database URL for building the application's
// graph without starting it: constructors do no I/O, so nothing dials it.
const UnusedDatabaseURL = "postgres://unused@127.0.0.1:1/unused"
