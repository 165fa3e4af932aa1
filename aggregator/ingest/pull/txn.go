package pull

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// txn is one Kafka transaction of the poller: records are produced
// asynchronously and the first failure is kept; commit flushes and commits
// only if every record was acknowledged.
type txn struct {
	cl  *kgo.Client
	mu  sync.Mutex
	err error
}

func (t *txn) produce(ctx context.Context, r *kgo.Record) {
	t.cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
		if err != nil {
			t.mu.Lock()
			if t.err == nil {
				t.err = err
			}
			t.mu.Unlock()
		}
	})
}

func (t *txn) failed() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// endTimeout bounds EndTransaction; it runs on a context that is not
// cancelled with the poller, because an interrupted EndTransaction leaves
// the outcome unknown.
const endTimeout = 30 * time.Second

func (t *txn) commit(ctx context.Context) error {
	if err := t.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush transaction: %w", err)
	}
	if err := t.failed(); err != nil {
		return fmt.Errorf("produce in transaction: %w", err)
	}
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endTimeout)
	defer cancel()
	if err := t.cl.EndTransaction(ectx, kgo.TryCommit); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

func (t *txn) abort(ctx context.Context) error {
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endTimeout)
	defer cancel()
	err := t.cl.AbortBufferedRecords(ectx)
	return errors.Join(err, t.cl.EndTransaction(ectx, kgo.TryAbort))
}
