package core

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	cases := []struct {
		kind    byte
		id      uint64
		payload []byte
	}{
		{FrameTask, 1, []byte("call")},
		{FrameQuit, 0, nil},
		{FrameResult, 1<<64 - 1, bytes.Repeat([]byte{0xab}, 3<<20)}, // past readN's chunk
		{FrameException, 7, []byte{}},
	}
	var stream []byte
	for _, c := range cases {
		stream = AppendFrame(stream, c.kind, c.id, c.payload)
	}
	r := bytes.NewReader(stream)
	for i, c := range cases {
		fr, err := ReadFrame(r)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if fr.Kind != c.kind || fr.ID != c.id || !bytes.Equal(fr.Payload, c.payload) {
			t.Fatalf("frame %d: got kind %c id %d len %d", i, fr.Kind, fr.ID, len(fr.Payload))
		}
	}
	if _, err := ReadFrame(r); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func TestReadFrameReserve(t *testing.T) {
	for _, n := range []int{0, 5, 2 << 20} {
		p := bytes.Repeat([]byte{'z'}, n)
		fr, err := ReadFrameReserve(bytes.NewReader(AppendFrame(nil, FrameResult, 3, p)), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(fr.Payload) != n+1 || fr.Payload[0] != 0 || !bytes.Equal(fr.Payload[1:], p) {
			t.Fatalf("n=%d: reserved payload wrong (len %d)", n, len(fr.Payload))
		}
	}
}

func TestReadFrameErrors(t *testing.T) {
	good := AppendFrame(nil, FrameResult, 9, []byte("payload"))
	// Cut inside the header and inside the payload.
	if _, err := ReadFrame(bytes.NewReader(good[:5])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short header: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader(good[:len(good)-2])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short payload: %v", err)
	}
	// A length below the fixed part, and one past MaxFrame.
	bad := append([]byte(nil), good...)
	bad[7] = 3
	bad[6], bad[5], bad[4], bad[3], bad[2], bad[1], bad[0] = 0, 0, 0, 0, 0, 0, 0
	if _, err := ReadFrame(bytes.NewReader(bad)); !errors.Is(err, ErrFrame) {
		t.Fatalf("length 3: %v", err)
	}
	bad[0] = 0xff
	if _, err := ReadFrame(bytes.NewReader(bad)); !errors.Is(err, ErrFrame) {
		t.Fatalf("huge length: %v", err)
	}
	// A corrupt but legal length larger than the stream must not allocate
	// it: the read fails once the stream ends.
	huge := AppendFrame(nil, FrameResult, 1, nil)
	huge[2] = 0x01 // ~1 TiB
	huge[0], huge[1] = 0, 0
	if _, err := ReadFrame(bytes.NewReader(huge)); err == nil {
		t.Fatal("a frame longer than its stream was accepted")
	}
}

// FuzzReadFrame: any byte stream either decodes into frames that encode back
// to the same bytes, or stops with an error; it never panics.
func FuzzReadFrame(f *testing.F) {
	f.Add(AppendFrame(nil, FrameTask, 1, []byte("x")))
	f.Add(AppendFrame(AppendFrame(nil, FrameQuit, 0, nil), FrameResult, 2, []byte("yz")))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 9, 'R', 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'R'})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var re []byte
		for {
			fr, err := ReadFrame(r)
			if err != nil {
				if err == io.EOF && !bytes.Equal(re, data) {
					t.Fatalf("clean end but %d of %d bytes re-encoded", len(re), len(data))
				}
				return
			}
			re = AppendFrame(re, fr.Kind, fr.ID, fr.Payload)
			if !bytes.Equal(re, data[:len(re)]) {
				t.Fatal("a decoded frame does not encode back to its bytes")
			}
		}
	})
}
