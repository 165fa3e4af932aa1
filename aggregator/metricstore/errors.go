package metricstore

import (
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// ErrStaleCheckpoint means the stored checkpoint is already past the one
// being written: another consumer owns (or owned) the partition and got
// further. The caller must reload the partition state from MongoDB.
var ErrStaleCheckpoint = errors.New("checkpoint is behind the stored one")

// Server error codes the store reacts to.
const (
	codeNamespaceExists = 48
	codeNotImplemented  = 238
)

// Retryable reports whether err is worth retrying with backoff (network
// trouble, timeouts, a stopped server) rather than a permanent mistake.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, ErrStaleCheckpoint) {
		return false
	}
	var se mongo.ServerError
	if errors.As(err, &se) && !mongo.IsNetworkError(err) && !mongo.IsTimeout(err) {
		// Server-side refusals are permanent except the transient ones the
		// driver labels, and server selection / shutdown codes.
		return se.HasErrorLabel("RetryableWriteError") || se.HasErrorCode(91) || se.HasErrorCode(189) ||
			se.HasErrorCode(11600) || se.HasErrorCode(11602) || se.HasErrorCode(13436)
	}
	return true
}

func hasCode(err error, code int) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(code)
}
