package request

import (
	"errors"
	"fmt"
)

// Error is a problem with the query itself. The plugin answers it with
// status 400 and the message as is, so it names the offending field.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

func badf(format string, a ...any) error { return &Error{msg: fmt.Sprintf(format, a...)} }

// IsBadRequest reports whether err is an Error.
func IsBadRequest(err error) bool {
	_, ok := errors.AsType[*Error](err)
	return ok
}

// Errorf makes a bad-request error for checks done after parsing.
func Errorf(format string, a ...any) error { return badf(format, a...) }
