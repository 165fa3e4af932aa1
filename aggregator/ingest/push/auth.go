package push

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// tokenCheck compares the push token in constant time. Both sides are hashed
// first so the comparison takes the same time whatever the length of the
// presented value, and the token's length does not leak either.
type tokenCheck struct {
	header string
	want   [sha256.Size]byte
	off    bool
}

func newTokenCheck(o Options) tokenCheck {
	return tokenCheck{header: o.TokenHeader, want: sha256.Sum256([]byte(o.Token)), off: o.AllowNoAuth && o.Token == ""}
}

func (c tokenCheck) ok(r *http.Request) bool {
	if c.off {
		return true
	}
	vals := r.Header.Values(c.header)
	if len(vals) != 1 {
		return false
	}
	got := sha256.Sum256([]byte(vals[0]))
	return subtle.ConstantTimeCompare(got[:], c.want[:]) == 1
}
