// Package netfault puts a TCP proxy between a client and a server that can
// lose the server's replies: the server applies a request whose client
// never hears back and gives up, the way a write cancelled on a deadline or
// a rebalance can still land.
package netfault

import (
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// ReplyDropper forwards every connection to a target address; while
// dropping, bytes from the target are read and discarded.
type ReplyDropper struct {
	ln     net.Listener
	target string
	drop   atomic.Bool

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Listen starts a proxy on a free loopback port in front of target.
func Listen(target string) (*ReplyDropper, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("reply dropper listen: %w", err)
	}
	d := &ReplyDropper{ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	d.wg.Add(1)
	go d.serve()
	return d, nil
}

// Addr is the proxy's host:port.
func (d *ReplyDropper) Addr() string { return d.ln.Addr().String() }

// Drop starts (true) or stops (false) discarding replies.
func (d *ReplyDropper) Drop(on bool) { d.drop.Store(on) }

// Reset closes every proxied connection and keeps accepting new ones: a
// client waiting on a lost reply gets a connection error at once instead of
// at its timeout.
func (d *ReplyDropper) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.conns {
		c.Close()
	}
}

// Close stops accepting and closes every proxied connection.
func (d *ReplyDropper) Close() {
	d.ln.Close()
	d.mu.Lock()
	for c := range d.conns {
		c.Close()
	}
	d.mu.Unlock()
	d.wg.Wait()
}

func (d *ReplyDropper) track(cs ...net.Conn) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conns == nil {
		return false
	}
	for _, c := range cs {
		d.conns[c] = struct{}{}
	}
	return true
}

func (d *ReplyDropper) forget(cs ...net.Conn) {
	d.mu.Lock()
	for _, c := range cs {
		delete(d.conns, c)
		c.Close()
	}
	d.mu.Unlock()
}

func (d *ReplyDropper) serve() {
	defer d.wg.Done()
	for {
		c, err := d.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", d.target)
		if err != nil {
			c.Close() // the server is down: the client sees a reset
			continue
		}
		d.track(c, s)
		d.wg.Add(2)
		go func() {
			defer d.wg.Done()
			_, _ = io.Copy(s, c)
			d.forget(c, s)
		}()
		go func() {
			defer d.wg.Done()
			d.replies(s, c)
			d.forget(c, s)
		}()
	}
}

// replies copies server bytes to the client unless dropping. Dropping whole
// reads keeps it simple: a reply half-delivered when dropping starts leaves
// the client waiting, which is the fault wanted.
func (d *ReplyDropper) replies(s, c net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 && !d.drop.Load() {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
