package test

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestMakeRunStopsOnSIGTERM runs the README's `make run` with its output to
// a file, as an operator's nohup or a service manager would, and sends
// SIGTERM to make alone: the server must stop cleanly and free its port,
// leaving nothing behind. The development log it wrote names the process,
// and carries no colour codes and no framework debug lines.
func TestMakeRunStopsOnSIGTERM(t *testing.T) {
	// A file, as nohup or a service manager gives: no terminal, and no pipe
	// that a process left behind would hold open.
	logFile, err := os.Create(filepath.Join(t.TempDir(), "run.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	read := func() string {
		b, _ := os.ReadFile(logFile.Name())
		return string(b)
	}
	cmd := exec.Command("make", "--no-print-directory", "run", "BIN="+filepath.Join(t.TempDir(), "minikart"))
	cmd.Dir = repoPath("")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+newDatabase(t),
		"MINIKART_ENV=development",
		"MINIKART_SERVER_PORT=0",
		"MINIKART_PROMO_INDEX_PATH="+filepath.Join(t.TempDir(), "coupons.idx"),
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited is closed once make has exited, with waitErr set.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	pid := 0
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	started := regexp.MustCompile(`started .*pid=(\d+)`)
	listening := regexp.MustCompile(`listening addr=(\S+)`)
	deadline := time.Now().Add(4 * time.Minute) // the first build of a fresh cache
	for !started.MatchString(read()) {
		select {
		case <-exited:
			t.Fatalf("make run exited (%v) before the server started:\n%s", waitErr, read())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start:\n%s", read())
		}
	}
	log := read()
	pid, _ = strconv.Atoi(started.FindStringSubmatch(log)[1])
	addr := listening.FindStringSubmatch(log)
	if addr == nil {
		t.Fatalf("no listening line before started:\n%s", log)
	}
	if pid == cmd.Process.Pid {
		t.Fatalf("the server's pid %d is make's", pid)
	}
	for _, bad := range []string{"\x1b[", "[GIN-debug]", "[Fx]", "start hook done"} {
		if bytes.Contains([]byte(log), []byte(bad)) {
			t.Errorf("the development log holds %q:\n%s", bad, log)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("make run still running 30 s after SIGTERM:\n%s", read())
	}
	waitFor(t, "the server process to exit", func() bool {
		return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	})
	if c, err := net.DialTimeout("tcp", addr[1], time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after make run stopped", addr[1])
	}
	if !regexp.MustCompile(`(?m)stopped component=fx`).MatchString(read()) {
		t.Errorf("the server did not log a clean stop:\n%s", read())
	}
}
