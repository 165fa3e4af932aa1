// Package freeport picks loopback ports for servers the test bed stops and
// starts again on the same address (a broker restarted after kill -9, a
// store brought back after an outage).
//
// The kernel's own choice (listening on port 0) comes from the ephemeral
// range, the range it also hands out as source ports of outgoing
// connections. While such a server is down, any client connecting anywhere
// (often the server's own clients, reconnecting) can be given its port, and
// the restart then fails with "address already in use". Ports here come from
// below that range, where the kernel never assigns source ports by itself.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// lowest is the first port considered: clear of the well-known and most
// registered service ports.
const lowest = 10000

// rangeFile holds the kernel's ephemeral port range ("32768	60999").
const rangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

// Port returns a loopback port that was free a moment ago and lies outside
// the kernel's ephemeral range. Where that range cannot be read, or leaves
// no room below it, it falls back to the kernel's choice.
func Port() (int, error) {
	if hi := ephemeralStart() - 1; hi >= lowest+1000 {
		if p, ok := pick(lowest, hi); ok {
			return p, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// pick tries random ports of [lo, hi] until one can be listened on.
func pick(lo, hi int) (int, bool) {
	for range 50 {
		p := lo + rand.IntN(hi-lo+1)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue // taken: try another
		}
		l.Close()
		return p, true
	}
	return 0, false
}

// Addr is Port as "127.0.0.1:<port>".
func Addr() (string, error) {
	p, err := Port()
	if err != nil {
		return "", err
	}
	return "127.0.0.1:" + strconv.Itoa(p), nil
}

// ephemeralStart is the first port of the kernel's ephemeral range, or 0
// when it is unknown (then Port uses the kernel's choice).
func ephemeralStart() int {
	b, err := os.ReadFile(rangeFile)
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0
	}
	lo, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return lo
}
