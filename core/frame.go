package core

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Pipe framing between the dispatcher and a worker process.
//
// Every message, in both directions, is one frame:
//
//	offset  size  field
//	0       8     length   big-endian uint64: the byte count of kind+id+payload (>= 9)
//	8       1     kind     one of the Frame* kinds below
//	9       8     id       big-endian uint64: the task id (0 for control frames)
//	17      n-9   payload  kind-specific bytes (may be empty)
//
// Parent to worker: FrameTask (payload: a pickle of (fn, args, kwargs)) and
// FrameQuit (empty: finish and exit). Worker to parent: FrameResult (payload:
// a pickle of the return value) and FrameException (payload: a pickle of the
// exception, carrying its traceback text). FrameResultLast and
// FrameExceptionLast are the same, sent by a worker as its last frame: it
// exits after it (max_worker_memory: its RSS grew past the bound), and the
// tasks handed to it behind that one, which never started there, go back to
// the head of the queue (ProcPool.complete). The worker side is
// python/gofutures/_worker.py, which uses struct format ">QBQ".
//
// A length below 9 or above MaxFrame is a protocol error: the stream cannot
// be resynchronised, so the reader treats the worker as broken.
const (
	FrameTask      byte = 'T'
	FrameQuit      byte = 'Q'
	FrameResult    byte = 'R'
	FrameException byte = 'E'
	// A worker's last result or exception (see above).
	FrameResultLast    byte = 'r'
	FrameExceptionLast byte = 'e'

	HeaderSize = 17
	// MaxFrame bounds one frame (1 TiB): a corrupt length fails fast
	// instead of making the reader allocate it.
	MaxFrame = 1 << 40
)

// ErrFrame reports a malformed frame.
var ErrFrame = errors.New("malformed frame")

// Frame is one decoded message.
type Frame struct {
	Kind    byte
	ID      uint64
	Payload []byte
}

// AppendFrame appends the encoding of a frame to dst.
func AppendFrame(dst []byte, kind byte, id uint64, payload []byte) []byte {
	var h [HeaderSize]byte
	binary.BigEndian.PutUint64(h[0:8], uint64(9+len(payload)))
	h[8] = kind
	binary.BigEndian.PutUint64(h[9:17], id)
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}

// ParseHeader decodes a frame header, returning the payload length.
func ParseHeader(h []byte) (kind byte, id uint64, n uint64, err error) {
	if len(h) < HeaderSize {
		return 0, 0, 0, fmt.Errorf("%w: short header (%d bytes)", ErrFrame, len(h))
	}
	length := binary.BigEndian.Uint64(h[0:8])
	if length < 9 || length > MaxFrame {
		return 0, 0, 0, fmt.Errorf("%w: length %d", ErrFrame, length)
	}
	return h[8], binary.BigEndian.Uint64(h[9:17]), length - 9, nil
}

// ReadFrame reads one frame. io.EOF means the stream ended cleanly between
// frames; io.ErrUnexpectedEOF, that it ended inside one.
func ReadFrame(r io.Reader) (Frame, error) { return readFrame(r, 0) }

// ReadFrameReserve is ReadFrame whose Payload starts with reserve spare
// bytes (zero) before the frame's payload, so that a caller can prefix a
// tag without copying a large payload again.
func ReadFrameReserve(r io.Reader, reserve int) (Frame, error) { return readFrame(r, reserve) }

func readFrame(r io.Reader, reserve int) (Frame, error) {
	var h [HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Frame{}, err
	}
	kind, id, n, err := ParseHeader(h[:])
	if err != nil {
		return Frame{}, err
	}
	payload, err := readN(r, n, reserve)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	return Frame{Kind: kind, ID: id, Payload: payload}, nil
}

// readN reads exactly n bytes, growing the buffer as data arrives so that a
// corrupt length cannot allocate more than the stream actually holds.
func readN(r io.Reader, n uint64, reserve int) ([]byte, error) {
	const chunk = 1 << 20
	if n <= chunk {
		buf := make([]byte, reserve+int(n))
		_, err := io.ReadFull(r, buf[reserve:])
		return buf, err
	}
	buf := make([]byte, reserve, chunk)
	for uint64(len(buf)-reserve) < n {
		want := n - uint64(len(buf)-reserve)
		if want > chunk {
			want = chunk
		}
		if cap(buf)-len(buf) < int(want) {
			nb := make([]byte, len(buf), 2*cap(buf)+int(want))
			copy(nb, buf)
			buf = nb
		}
		k, err := io.ReadFull(r, buf[len(buf):len(buf)+int(want)])
		buf = buf[:len(buf)+k]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
