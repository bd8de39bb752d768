// Package pgtest starts a PostgreSQL cluster from the locally installed
// binaries: throwaway ones for the integration tests (in /dev/shm, fsync
// off, removed afterwards) and the persistent one `make run` uses.
package pgtest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// InstallHint tells a developer how to get what the harness needs.
const InstallHint = "install PostgreSQL (Debian: " + InstallCommand + ") or set DATABASE_URL to a server the tests may create databases on"

// InstallCommand installs the PostgreSQL server binaries on Debian and Ubuntu.
const InstallCommand = "apt-get install -y postgresql"

// DefaultDevPort is the port a checkout's persistent cluster takes when it
// is free at initialisation; another checkout's cluster gets a free one.
const DefaultDevPort = 55432

// Cluster is a running local PostgreSQL cluster.
type Cluster struct {
	Dir  string
	Port int
	bin  string
	// throwaway clusters are removed by Stop.
	throwaway bool
	// settings are extra server settings (name=value), after the defaults.
	settings []string
}

// URL returns the URL of database name on the cluster (superuser postgres,
// trust authentication on loopback only).
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, name)
}

// BinDir finds the newest installed PostgreSQL server binaries.
func BinDir() (string, error) {
	if dir := os.Getenv("PG_BINDIR"); dir != "" {
		return dir, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", errors.New("no PostgreSQL server binaries (initdb) found: " + InstallHint)
	}
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) > version(matches[j]) })
	return filepath.Dir(matches[0]), nil
}

func version(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

// StartThrowaway initialises and starts a cluster in a new temporary
// directory (in /dev/shm when available) on a free port, tuned for speed
// over durability. Stop removes it.
func StartThrowaway(ctx context.Context) (*Cluster, error) {
	return startThrowaway(ctx)
}

func startThrowaway(ctx context.Context, settings ...string) (*Cluster, error) {
	dir, err := throwawayDir()
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	c, err := start(ctx, dir, port, true, settings)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// StartDurable starts a throwaway cluster with production's durability
// settings, for figures that describe a production server: fsync,
// full_page_writes and synchronous_commit on, so a commit returns only once
// its WAL is flushed, and settings (name=value) on top. Its files are on
// disk (TMPDIR) when onDisk, else in /dev/shm where available, where a
// flush costs its system calls but no storage latency. Stop removes it.
func StartDurable(ctx context.Context, onDisk bool, settings ...string) (*Cluster, error) {
	var dir string
	var err error
	if onDisk {
		dir, err = os.MkdirTemp("", "minikart-pg-")
	} else {
		dir, err = throwawayDir()
	}
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	c, err := start(ctx, dir, port, true, append(durableSettings(), settings...))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// durableSettings undo the throwaway defaults that trade durability for
// speed.
func durableSettings() []string {
	return []string{"fsync=on", "synchronous_commit=on", "full_page_writes=on"}
}

// Setting returns a server setting's current value (SHOW name).
func (c *Cluster) Setting(ctx context.Context, name string) (string, error) {
	return c.Query(ctx, "postgres", "SHOW "+name)
}

// throwawayDir makes a new temporary directory, in /dev/shm when available.
func throwawayDir() (string, error) {
	parent := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		parent = "/dev/shm"
	}
	return os.MkdirTemp(parent, "minikart-pg-")
}

// DevDir is where the persistent cluster of the checkout at root lives:
// outside the checkout, under /var/tmp, because the server runs as the
// postgres user when we are root and cannot enter a checkout in a private
// (0700) directory; one per checkout path and user, so that checkouts and
// users never share a cluster.
func DevDir(root string) string {
	return StateDir(root, "devdb")
}

// StateDir is where the checkout at root keeps what runs outside it under
// kind ("devdb", "cluster"), for the reasons DevDir gives.
func StateDir(root, kind string) string {
	parent := "/var/tmp"
	if st, err := os.Stat(parent); err != nil || !st.IsDir() {
		parent = os.TempDir()
	}
	sum := sha256.Sum256([]byte(root))
	return filepath.Join(parent, fmt.Sprintf("minikart-%s-%d-%x", kind, os.Geteuid(), sum[:6]))
}

// StartPersistent starts (initialising on first use) the cluster kept in
// dir, or reuses it when it already runs. Its port is chosen at
// initialisation (DefaultDevPort when free) and kept in dir.
func StartPersistent(ctx context.Context, dir string) (*Cluster, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the cluster directory: %w", err)
	}
	port, err := readPort(dir)
	if errors.Is(err, os.ErrNotExist) {
		port, err = choosePort(dir)
	}
	if err != nil {
		return nil, err
	}
	return start(ctx, dir, port, false, nil)
}

// Existing returns a handle on the persistent cluster in dir without
// starting it, to stop it.
func Existing(dir string) (*Cluster, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	port, err := readPort(dir)
	if err != nil {
		return nil, err
	}
	return &Cluster{Dir: dir, Port: port, bin: bin}, nil
}

const portFile = "port"

func readPort(dir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, portFile))
	if err != nil {
		return 0, err
	}
	port, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s: %w (remove %s to start afresh)", filepath.Join(dir, portFile), err, dir)
	}
	return port, nil
}

// choosePort takes DefaultDevPort when nothing listens on it, else a free
// port, and records the choice in dir.
func choosePort(dir string) (int, error) {
	port := DefaultDevPort
	if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		l.Close()
	} else if port, err = FreePort(); err != nil {
		return 0, err
	}
	return port, os.WriteFile(filepath.Join(dir, portFile), []byte(strconv.Itoa(port)+"\n"), 0o644)
}

func start(ctx context.Context, dir string, port int, throwaway bool, settings []string) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, Port: port, bin: bin, throwaway: throwaway, settings: settings}
	data := filepath.Join(dir, "data")
	if err := c.chownForServer(dir); err != nil {
		return nil, err
	}
	if err := c.reachable(ctx); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if out, err := c.run(ctx, "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
			return nil, fmt.Errorf("initdb: %w: %s", err, out)
		}
	}
	if c.Running(ctx) {
		return c, nil
	}
	if err := c.StartServer(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// StartServer starts the server process of an initialised cluster.
func (c *Cluster) StartServer(ctx context.Context) error {
	opts := []string{
		"-p " + strconv.Itoa(c.Port),
		"-k " + c.Dir,
		"-c listen_addresses=127.0.0.1",
		"-c max_connections=300",
	}
	if c.throwaway {
		opts = append(opts, "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")
	}
	// A later -c wins, so settings override the defaults above.
	for _, s := range c.settings {
		opts = append(opts, "-c "+s)
	}
	out, err := c.run(ctx, "pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-l", filepath.Join(c.Dir, "server.log"), "-w", "-t", "60",
		"-o", strings.Join(opts, " "), "start")
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(c.Dir, "server.log"))
		return fmt.Errorf("pg_ctl start: %w: %s\n%s", err, out, tail(log, 2000))
	}
	return nil
}

// StopImmediate stops the server process at once, without a checkpoint or
// a goodbye to its clients, as a crash of the machine would (the files stay,
// as on a disk that survived).
func (c *Cluster) StopImmediate(ctx context.Context) error {
	if out, err := c.run(ctx, "pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", "immediate", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, out)
	}
	return nil
}

// StopServer stops the server process (fast shutdown: open sessions are
// terminated) and keeps the cluster's files, so StartServer can bring it
// back, as an operator restarting PostgreSQL would.
func (c *Cluster) StopServer(ctx context.Context) error {
	if out, err := c.run(ctx, "pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, out)
	}
	return nil
}

// StartThrowawayPrimary starts a throwaway cluster ready to be a
// replication primary: commits are flushed (synchronous_commit=on), and
// WaitSynchronous later makes them wait for a standby too.
func StartThrowawayPrimary(ctx context.Context) (*Cluster, error) {
	return startThrowaway(ctx, "synchronous_commit=on", "wal_level=replica")
}

// WaitSynchronous makes every commit on c wait until a standby has it
// (synchronous_standby_names = '*'), then waits until a standby streams as
// synchronous, at most until ctx ends. From then on an acknowledged commit
// survives the loss of the primary.
func (c *Cluster) WaitSynchronous(ctx context.Context) error {
	if _, err := c.Query(ctx, "postgres", "ALTER SYSTEM SET synchronous_standby_names = '*'"); err != nil {
		return err
	}
	if _, err := c.Query(ctx, "postgres", "SELECT pg_reload_conf()"); err != nil {
		return err
	}
	for {
		out, err := c.Query(ctx, "postgres", "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")
		if err == nil && out != "0" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no synchronous standby: %w (last: %q %v)", ctx.Err(), out, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// StartStandby clones c with pg_basebackup -R into a new throwaway cluster
// and starts it as c's streaming standby, on a free port. It has no
// synchronous standby of its own, so once promoted it commits alone.
func (c *Cluster) StartStandby(ctx context.Context) (*Cluster, error) {
	dir, err := throwawayDir()
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	s := &Cluster{Dir: dir, Port: port, bin: c.bin, throwaway: true, settings: []string{"hot_standby=on"}}
	if err := s.chownForServer(dir); err != nil {
		return nil, err
	}
	if out, err := s.run(ctx, "pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres",
		"-D", filepath.Join(dir, "data"), "-R", "-X", "stream", "-c", "fast", "--no-sync"); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("pg_basebackup: %w: %s", err, out)
	}
	if err := s.StartServer(ctx); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// Promote turns a standby into a primary and waits until it accepts writes.
func (c *Cluster) Promote(ctx context.Context) error {
	if out, err := c.run(ctx, "pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-w", "-t", "30", "promote"); err != nil {
		return fmt.Errorf("pg_ctl promote: %w: %s", err, out)
	}
	return nil
}

// Query runs sql on database db with psql and returns its unaligned output.
func (c *Cluster) Query(ctx context.Context, db, sql string) (string, error) {
	out, err := c.run(ctx, "psql", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres", "-d", db, "-tAc", sql)
	if err != nil {
		return "", fmt.Errorf("psql: %w: %s", err, out)
	}
	return strings.TrimSpace(out), nil
}

// Running reports whether the cluster's server process is up.
func (c *Cluster) Running(ctx context.Context) bool {
	_, err := c.run(ctx, "pg_ctl", "-D", filepath.Join(c.Dir, "data"), "status")
	return err == nil
}

// CreateDatabase creates name unless it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	out, err := c.run(ctx, "psql", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres", "-d", "postgres",
		"-tAc", "SELECT 1 FROM pg_database WHERE datname = '"+name+"'")
	if err != nil {
		return fmt.Errorf("psql: %w: %s", err, out)
	}
	if strings.TrimSpace(out) == "1" {
		return nil
	}
	if out, err := c.run(ctx, "createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres", name); err != nil {
		return fmt.Errorf("createdb: %w: %s", err, out)
	}
	return nil
}

// Stop shuts the server down; a throwaway cluster's files are removed.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	mode := "fast"
	if c.throwaway {
		mode = "immediate"
	}
	out, err := c.run(ctx, "pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", mode, "-w", "stop")
	if c.throwaway {
		return errors.Join(err, os.RemoveAll(c.Dir))
	}
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, out)
	}
	return nil
}

// run executes a PostgreSQL binary, as the postgres system user when this
// process is root (the server refuses to run as root).
func (c *Cluster) run(ctx context.Context, name string, args ...string) (string, error) {
	path := filepath.Join(c.bin, name)
	if _, err := os.Stat(path); err != nil {
		if p, lerr := exec.LookPath(name); lerr == nil {
			path = p
		}
	}
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = os.TempDir()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// chownForServer hands dir to the postgres user when running as root.
func (c *Cluster) chownForServer(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs the postgres system user: %w (%s)", err, InstallHint)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// reachable checks, when we are root, that the postgres user can write the
// cluster's directory, and says what to do when it cannot: the server runs
// as postgres and must traverse every parent directory.
func (c *Cluster) reachable(ctx context.Context) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if out, err := c.run(ctx, "test", "-w", c.Dir, "-a", "-x", c.Dir); err != nil {
		return fmt.Errorf("PostgreSQL runs as the postgres user, which cannot enter %s (%v %s): "+
			"let others search each parent directory (chmod o+x) or use another place (TMPDIR for test clusters)",
			c.Dir, err, strings.TrimSpace(out))
	}
	return nil
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
