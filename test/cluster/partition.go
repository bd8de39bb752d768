package main

import (
	"errors"
	"io"
	"net"
	"sync"
)

// A partition cuts one PostgreSQL node off from etcd the way a network
// fault does, on loopback and without privileges: the node keeps running,
// keeps its clients and its replication, but the bytes between its Patroni
// and etcd stop flowing both ways, and its new connections to etcd get no
// answer. When the partition heals, what was held flows on, as TCP
// retransmits after a partition. For that each Patroni node reaches each
// etcd member through a link of its own (topology.etcdLinks), so that one
// node's paths can be cut alone.

// link forwards the connections accepted on its listener to target,
// unless cut: then it holds them.
type link struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	open   chan struct{} // closed while the link is whole
	conns  map[net.Conn]struct{}
	closed bool
}

func newLink(addr, target string) (*link, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &link{ln: ln, target: target, open: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	close(l.open)
	go l.serve()
	return l, nil
}

func (l *link) serve() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		go l.forward(c)
	}
}

// gate returns once the link is whole (at once when it is), or false when
// the link is closed meanwhile.
func (l *link) gate() bool {
	l.mu.Lock()
	open := l.open
	l.mu.Unlock()
	<-open
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.closed
}

func (l *link) track(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return false
	}
	l.conns[c] = struct{}{}
	return true
}

func (l *link) forward(client net.Conn) {
	if !l.track(client) {
		return
	}
	defer l.untrack(client)
	// A connection made across a partition gets no answer until it heals.
	if !l.gate() {
		return
	}
	server, err := net.Dial("tcp", l.target)
	if err != nil {
		return
	}
	if !l.track(server) {
		return
	}
	defer l.untrack(server)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if !l.gate() {
					return
				}
				if _, werr := dst.Write(buf[:n]); werr != nil {
					client.Close()
					server.Close()
					return
				}
			}
			if errors.Is(err, io.EOF) {
				// The other way may still carry an answer.
				_ = dst.(*net.TCPConn).CloseWrite()
				return
			}
			if err != nil {
				client.Close()
				server.Close()
				return
			}
		}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	<-done
}

func (l *link) untrack(c net.Conn) {
	c.Close()
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// cut stops the bytes; heal lets them flow again.
func (l *link) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.open:
		l.open = make(chan struct{})
	default:
	}
}

func (l *link) heal() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.open:
	default:
		close(l.open)
	}
}

// close stops the link and drops its connections.
func (l *link) close() {
	l.ln.Close()
	l.mu.Lock()
	l.closed = true
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
	l.heal()
}

// etcdLinks are every Patroni node's links to every etcd member.
type etcdLinks struct {
	byNode map[string][]*link
}

// etcdLinkAddr is where node i reaches etcd member j.
func etcdLinkAddr(node, member int) string {
	return hostPort(etcdLinkPort + (node-1)*etcdMembers + member)
}

// startEtcdLinks opens the links; the topology's Patroni nodes use them
// once t.etcdLinks is set.
func startEtcdLinks() (*etcdLinks, error) {
	ls := &etcdLinks{byNode: map[string][]*link{}}
	for i := 1; i <= pgNodes; i++ {
		for j := 1; j <= etcdMembers; j++ {
			l, err := newLink(etcdLinkAddr(i, j), hostPort(etcdClientPort+j))
			if err != nil {
				ls.close()
				return nil, err
			}
			ls.byNode[pgName(i)] = append(ls.byNode[pgName(i)], l)
		}
	}
	return ls, nil
}

// partition cuts node off from every etcd member; heal joins it again.
func (ls *etcdLinks) partition(node string) {
	for _, l := range ls.byNode[node] {
		l.cut()
	}
}

func (ls *etcdLinks) heal(node string) {
	for _, l := range ls.byNode[node] {
		l.heal()
	}
}

func (ls *etcdLinks) close() {
	for _, links := range ls.byNode {
		for _, l := range links {
			l.close()
		}
	}
}
