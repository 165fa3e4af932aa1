package freeport

import (
	"net"
	"strconv"
	"testing"
)

// TestPortIsBelowTheEphemeralRange checks the port is bindable and, where
// the kernel says where its ephemeral range starts, below it.
func TestPortIsBelowTheEphemeralRange(t *testing.T) {
	start := ephemeralStart()
	for range 20 {
		p, err := Port()
		if err != nil {
			t.Fatal(err)
		}
		if start > lowest+1000 && (p < lowest || p >= start) {
			t.Fatalf("port %d outside [%d, %d)", p, lowest, start)
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d not bindable: %v", p, err)
		}
		l.Close()
	}
}

// TestPickSkipsTakenPorts holds three of four consecutive ports and checks
// pick finds the fourth every time.
func TestPickSkipsTakenPorts(t *testing.T) {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	base := 0
	for base == 0 {
		p, err := Port()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range held {
			l.Close()
		}
		held = held[:0]
		base = p
		for q := p; q < p+3; q++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(q))
			if err != nil {
				base = 0 // not three free ports in a row here: look elsewhere
				break
			}
			held = append(held, l)
		}
		if base != 0 {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+3))
			if err != nil {
				base = 0
				continue
			}
			l.Close()
		}
	}
	for range 20 {
		got, ok := pick(base, base+3)
		if !ok {
			t.Fatalf("pick(%d, %d) found no port; %d was free", base, base+3, base+3)
		}
		if got != base+3 {
			t.Fatalf("pick returned %d, which is held", got)
		}
	}
}
