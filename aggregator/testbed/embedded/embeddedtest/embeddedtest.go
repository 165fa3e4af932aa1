// Package embeddedtest starts the embedded peers for a test: each helper
// fails the test when its peer cannot start and stops the peer when the test
// (and its subtests) end, so a test needs one line per peer.
package embeddedtest

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/freeport"
)

// Kafka starts an in-process Kafka cluster on a free loopback port.
func Kafka(t testing.TB, extra ...kfake.Opt) *embedded.Kafka {
	t.Helper()
	k, err := embedded.StartKafka("", extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

// Mongo starts FerretDB on a free loopback port with its files in a
// temporary directory; its logs are discarded.
func Mongo(t testing.TB) *embedded.Mongo {
	t.Helper()
	m, err := embedded.StartMongo(context.Background(), t.TempDir(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// FreeAddr returns a loopback address that was free a moment ago, for a
// server that must be given an address rather than a listener.
func FreeAddr(t testing.TB) string {
	t.Helper()
	addr, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}
