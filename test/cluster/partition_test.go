package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// echoServer answers each line with itself.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestLinkPartitions: a link forwards both ways; cut, it holds what is
// sent on an open connection and answers no new one; healed, what it held
// arrives.
func TestLinkPartitions(t *testing.T) {
	l, err := newLink("127.0.0.1:0", echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	addr := l.ln.Addr().String()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	roundTrip := func(conn net.Conn, r *bufio.Reader, msg string, wait time.Duration) (string, error) {
		if _, err := conn.Write([]byte(msg + "\n")); err != nil {
			return "", err
		}
		_ = conn.SetReadDeadline(time.Now().Add(wait))
		return r.ReadString('\n')
	}
	if got, err := roundTrip(c, r, "before", 5*time.Second); err != nil || got != "before\n" {
		t.Fatalf("whole link: %q, %v", got, err)
	}

	l.cut()
	if got, err := roundTrip(c, r, "during", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("cut link, open connection: %q, %v; want no answer", got, err)
	}
	fresh, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	fr := bufio.NewReader(fresh)
	if got, err := roundTrip(fresh, fr, "new", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("cut link, new connection: %q, %v; want no answer", got, err)
	}

	l.heal()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := r.ReadString('\n'); err != nil || got != "during\n" {
		t.Fatalf("healed: the held line came back as %q, %v", got, err)
	}
	_ = fresh.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := fr.ReadString('\n'); err != nil || got != "new\n" {
		t.Fatalf("healed: the new connection's line came back as %q, %v", got, err)
	}
	if got, err := roundTrip(c, r, "after", 5*time.Second); err != nil || got != "after\n" {
		t.Fatalf("healed link: %q, %v", got, err)
	}
}
