package pull

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// spool holds a downloaded report's records between the download and its
// transaction: in memory up to a bound, beyond it in a temporary file, so a
// report of a million rows costs disk, not heap. Not safe for concurrent use.
type spool struct {
	limit int
	dir   string
	mem   bytes.Buffer
	f     *os.File
	fw    *bufio.Writer
	n     int64 // bytes written
}

func newSpool(limit int, dir string) *spool { return &spool{limit: limit, dir: dir} }

// Write appends p, moving to a temporary file once the memory bound is
// passed.
func (s *spool) Write(p []byte) (int, error) {
	s.n += int64(len(p))
	if s.f == nil && s.mem.Len()+len(p) <= s.limit {
		return s.mem.Write(p)
	}
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "campaignpulse-pull-*.spool")
		if err != nil {
			return 0, fmt.Errorf("spool report to disk: %w", err)
		}
		s.f, s.fw = f, bufio.NewWriterSize(f, 256<<10)
		if _, err := s.fw.Write(s.mem.Bytes()); err != nil {
			return 0, fmt.Errorf("spool report to disk: %w", err)
		}
		s.mem = bytes.Buffer{}
	}
	n, err := s.fw.Write(p)
	if err != nil {
		err = fmt.Errorf("spool report to disk: %w", err)
	}
	return n, err
}

// onDisk says whether the spool moved to a file.
func (s *spool) onDisk() bool { return s.f != nil }

// reader returns the spooled bytes from the start; it can be called again
// (a retried transaction replays the same records).
func (s *spool) reader() (io.Reader, error) {
	if s.f == nil {
		return bytes.NewReader(s.mem.Bytes()), nil
	}
	if err := s.fw.Flush(); err != nil {
		return nil, fmt.Errorf("spool report to disk: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind report spool: %w", err)
	}
	return bufio.NewReaderSize(s.f, 256<<10), nil
}

// Close removes the temporary file, if any.
func (s *spool) Close() error {
	if s.f == nil {
		s.mem = bytes.Buffer{}
		return nil
	}
	name := s.f.Name()
	return errors.Join(s.f.Close(), os.Remove(name))
}

// A spooled record is a frame: kind byte, then uvarint-length-prefixed key
// (raw) or reason (dead letter), then the value.
const (
	frameRaw byte = 1
	frameDLQ byte = 2
)

func appendFrame(b []byte, kind byte, keyOrReason, value []byte) []byte {
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(keyOrReason)))
	b = append(b, keyOrReason...)
	b = binary.AppendUvarint(b, uint64(len(value)))
	return append(b, value...)
}

// frameReader reads frames back; the returned slices are fresh (the
// producer keeps them until acknowledged).
type frameReader struct{ r *bufio.Reader }

func newFrameReader(r io.Reader) *frameReader {
	if br, ok := r.(*bufio.Reader); ok {
		return &frameReader{br}
	}
	return &frameReader{bufio.NewReaderSize(r, 64<<10)}
}

// next returns io.EOF after the last frame.
func (fr *frameReader) next() (kind byte, keyOrReason, value []byte, err error) {
	kind, err = fr.r.ReadByte()
	if err != nil {
		return 0, nil, nil, err // io.EOF at a frame boundary: done
	}
	if keyOrReason, err = fr.field(); err == nil {
		value, err = fr.field()
	}
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read report spool: %w", err)
	}
	return kind, keyOrReason, value, nil
}

func (fr *frameReader) field() ([]byte, error) {
	n, err := binary.ReadUvarint(fr.r)
	if err != nil {
		return nil, noEOF(err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(fr.r, b); err != nil {
		return nil, noEOF(err)
	}
	return b, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
