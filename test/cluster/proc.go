package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Each part runs in a session of its own (its process group is its pid), so
// a signal to the group reaches everything it started: Patroni's
// PostgreSQL, nginx's workers. Its pid is kept in run/<name>.pid and its
// output in <name>.log, both in the cluster's directory.

func (t *topology) pidFile(name string) string { return t.path("run", name+".pid") }
func (t *topology) logFile(name string) string { return t.path(name + ".log") }

// start launches p and records its pid. It does not wait for readiness.
func (t *topology) start(p part) error {
	if pid := t.pid(p.name); pid > 0 {
		return fmt.Errorf("%s already runs (pid %d)", p.name, pid)
	}
	for _, d := range append([]string{p.dir, t.path("run")}, p.owns...) {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	cred, err := credential(p.user)
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	if cred != nil {
		for _, d := range p.owns {
			if err := chownTree(d, int(cred.Uid), int(cred.Gid)); err != nil {
				return err
			}
		}
	}
	logf, err := os.OpenFile(t.logFile(p.name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- %s start %s\n", time.Now().UTC().Format(time.RFC3339), p.name)
	home := p.dir
	cmd := exec.Command(p.path, p.args...)
	cmd.Dir = p.dir
	cmd.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "LANG=C.UTF-8"}, p.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: cred}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	// Reap it when it ends, so that a killed part does not linger as a
	// zombie while this process runs (the chaos test).
	go func() { _ = cmd.Wait() }()
	return os.WriteFile(t.pidFile(p.name), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
}

// pid returns the pid of the part named name when it runs, else 0.
func (t *topology) pid(name string) int {
	b, err := os.ReadFile(t.pidFile(name))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || !alive(pid) {
		return 0
	}
	return pid
}

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// groupAlive reports whether any process of pid's group is left.
func groupAlive(pid int) bool {
	return syscall.Kill(-pid, 0) == nil && anyInGroupAlive(pid)
}

func anyInGroupAlive(pgid int) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, err := syscall.Getpgid(pid); err == nil && g == pgid && alive(pid) {
			return true
		}
	}
	return false
}

// kill sends SIGKILL to the part's whole process group, and to the
// PostgreSQL it runs (Patroni starts it in a session of its own), as a
// crash of its machine would, and waits until none of it is left.
func (t *topology) kill(name string) error {
	pid := t.pid(name)
	if pid == 0 {
		return fmt.Errorf("%s is not running", name)
	}
	pm := t.postmaster(name)
	if pm > 0 {
		pm, _ = syscall.Getpgid(pm)
		_ = syscall.Kill(-pm, syscall.SIGKILL)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	if pm > 0 {
		if err := waitGone(name+"'s PostgreSQL", pm, 10*time.Second); err != nil {
			return err
		}
	}
	return waitGone(name, pid, 10*time.Second)
}

// postmaster is the pid of the PostgreSQL server a Patroni node runs, when
// it runs, else 0. Its process group, which its backends share, is the one
// of a helper Patroni started it from, not its own pid.
func (t *topology) postmaster(name string) int {
	b, err := os.ReadFile(t.path(name, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 0 || !alive(pid) {
		return 0
	}
	return pid
}

// stop asks the part to stop (SIGTERM to its group), then kills what is
// left after grace.
func (t *topology) stop(name string, grace time.Duration) error {
	b, err := os.ReadFile(t.pidFile(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid <= 0 {
		return nil
	}
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	if waitGone(name, pid, grace) != nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		if err := waitGone(name, pid, 10*time.Second); err != nil {
			return err
		}
	}
	// Patroni stops its PostgreSQL on SIGTERM; one left by a killed
	// Patroni is stopped here (smart shutdown on SIGTERM would wait for
	// its clients: SIGINT is the fast one).
	if pm := t.postmaster(name); pm > 0 {
		group, _ := syscall.Getpgid(pm)
		_ = syscall.Kill(pm, syscall.SIGINT)
		if waitGone(name+"'s PostgreSQL", group, grace) != nil {
			_ = syscall.Kill(-group, syscall.SIGKILL)
		}
	}
	return os.Remove(t.pidFile(name))
}

func waitGone(name string, pid int, d time.Duration) error {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !groupAlive(pid) {
			return nil
		}
	}
	return fmt.Errorf("%s (process group %d) still runs after %v", name, pid, d)
}

// credential is the identity a part runs as: nil for the invoking user,
// which is also what runs everything when it is not root.
func credential(name string) (*syscall.Credential, error) {
	if name == "" || os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("system user %s: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

func chownTree(dir string, uid, gid int) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}
