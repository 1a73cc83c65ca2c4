// Package tophat is Tophat's HTTP/1.1 protocol core for Go: request-head parsing, chunked
// body decoding and response framing, as pure functions over bytes (the contract is
// wit/tophat.wit, package tophat:http@0.2.0).
//
// It calls the C binding (bindings/c) through cgo; that binding runs wasm2c's C of the
// WebAssembly core, so the sandboxed core is what parses, not a Go port of it. Build the
// C library first: `make -C ../c` (it writes ../c/build/libtophat.a, which this package
// links).
//
// Spans are offsets into the bytes you passed; everything else a call returns is Go
// memory the caller owns. The C binding must be called from one thread at a time, so
// every call here holds one package-wide lock: a Core may be shared by goroutines, and
// calls are serialized.
package tophat

/*
#cgo CFLAGS: -I${SRCDIR}/../c
#cgo LDFLAGS: ${SRCDIR}/../c/build/libtophat.a -lm
#include <stdlib.h>
#include <string.h>
#include "tophat.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"
)

// calls serializes every call into the C binding (its trap handling uses process globals).
var calls sync.Mutex

// ErrTrapped is returned (wrapped) when the core trapped: the instance was re-made and
// only that call failed. Fail the connection it was serving.
var ErrTrapped = errors.New("tophat: the protocol core trapped; it was re-instantiated")

// ErrClosed is returned by calls on a Core after Close.
var ErrClosed = errors.New("tophat: the core is closed")

// Span is a byte range [Start, Start+Len) in the bytes passed to the call that returned it.
type Span struct{ Start, Len uint32 }

// Of returns the span's bytes in b (the bytes the span was made from).
func (s Span) Of(b []byte) []byte { return b[s.Start : s.Start+s.Len] }

// Header is one header (or trailer) field line; the value excludes surrounding whitespace.
type Header struct{ Name, Value Span }

// Limits are chosen by the host; exceeding one is a rejection, never an error.
type Limits struct {
	MaxHeadBytes, MaxHeaders, MaxTargetLength, MaxChunkExtensionLength uint32
}

// DefaultLimits are the WIT's suggested defaults.
var DefaultLimits = Limits{MaxHeadBytes: 16384, MaxHeaders: 100, MaxTargetLength: 8192, MaxChunkExtensionLength: 1024}

func (l Limits) c() C.th_limits {
	return C.th_limits{
		max_head_bytes: C.uint32_t(l.MaxHeadBytes), max_headers: C.uint32_t(l.MaxHeaders),
		max_target_length: C.uint32_t(l.MaxTargetLength), max_chunk_extension_length: C.uint32_t(l.MaxChunkExtensionLength),
	}
}

// RejectReason says why a request was refused (the WIT's reject-reason).
type RejectReason int

// String is the WIT's name of the reason ("bad-line-ending", ...).
func (r RejectReason) String() string {
	return C.GoString(C.th_reject_reason_name(C.th_reject_reason(r)))
}

// Rejection is a refused request: answer Status with Connection: close, then close.
// Offset is the offending byte in the bytes passed.
type Rejection struct {
	Reason RejectReason
	Status uint16
	Offset uint32
}

func rejectionOf(r C.th_rejection) Rejection {
	return Rejection{Reason: RejectReason(r.reason), Status: uint16(r.status), Offset: uint32(r.offset)}
}

// HTTPVersion is the version of a request.
type HTTPVersion int

// The versions a request head can have (HTTP/1.2–1.9 parse as HTTP/1.1).
const (
	HTTP10 HTTPVersion = iota
	HTTP11
)

// String is the WIT's name ("http10", "http11").
func (v HTTPVersion) String() string { return C.GoString(C.th_http_version_name(C.th_http_version(v))) }

// BodyFraming says how a request body is delimited.
type BodyFraming int

// The framings of a request body.
const (
	BodyNone BodyFraming = iota
	BodyContentLength
	BodyChunked
)

// String is the WIT's name ("none", "content-length", "chunked").
func (b BodyFraming) String() string { return C.GoString(C.th_body_framing_name(C.th_body_framing(b))) }

// RequestHead is a complete, valid request head; spans are into the bytes parsed.
type RequestHead struct {
	Method, Target, Path Span
	// Query (without "?") and Authority (absolute-form or CONNECT targets) when present.
	Query, Authority *Span
	Version          HTTPVersion
	// Every field line in wire order.
	Headers []Header
	// Where the body (or the next request) starts.
	HeadLength    uint32
	Body          BodyFraming
	ContentLength uint64
	// KeepAlive: the connection may stay open. ExpectContinue: the client waits for
	// 100 Continue. Upgrade: the client asks to switch protocols.
	KeepAlive, ExpectContinue, Upgrade bool
}

// ParseKind tells the three outcomes of ParseHead apart.
type ParseKind int

// The outcomes of ParseHead.
const (
	// Incomplete: a valid prefix; see SearchFrom and MayEndHead before calling again.
	Incomplete ParseKind = iota
	// Complete: Head holds a whole, valid head.
	Complete
	// Invalid: Rejection says why.
	Invalid
)

// ParseOutcome is what ParseHead found.
type ParseOutcome struct {
	Kind ParseKind
	// With Incomplete: the head cannot end before this offset.
	SearchFrom uint32
	Head       RequestHead
	Rejection  Rejection
}

// Core is one instance of the protocol core. Make it with New and free it with Close.
type Core struct {
	c      *C.th_core
	parse  *C.th_parse_result
	decode *C.th_decode_result
	framed *C.th_framed_head
	wire   *C.th_wire
}

// New makes an instance of the core.
func New() (*Core, error) {
	calls.Lock()
	defer calls.Unlock()
	c := C.th_core_new()
	if c == nil {
		return nil, errors.New("tophat: out of memory making a core instance")
	}
	// Result structs live in C memory: cgo forbids C keeping pointers into Go memory.
	return &Core{
		c:      c,
		parse:  (*C.th_parse_result)(C.calloc(1, C.sizeof_th_parse_result)),
		decode: (*C.th_decode_result)(C.calloc(1, C.sizeof_th_decode_result)),
		framed: (*C.th_framed_head)(C.calloc(1, C.sizeof_th_framed_head)),
		wire:   (*C.th_wire)(C.calloc(1, C.sizeof_th_wire)),
	}, nil
}

// Close frees the instance and its result buffers. The Core must not be used afterwards.
func (c *Core) Close() {
	calls.Lock()
	defer calls.Unlock()
	if c.c == nil {
		return
	}
	C.th_parse_result_free(c.parse)
	C.th_decode_result_free(c.decode)
	C.th_framed_head_free(c.framed)
	C.th_wire_free(c.wire)
	for _, p := range []unsafe.Pointer{unsafe.Pointer(c.parse), unsafe.Pointer(c.decode), unsafe.Pointer(c.framed), unsafe.Pointer(c.wire)} {
		C.free(p)
	}
	C.th_core_free(c.c)
	c.c = nil
}

// Restarts is how many times a trap made this instance start over.
func (c *Core) Restarts() uint {
	calls.Lock()
	defer calls.Unlock()
	return uint(C.th_core_restarts(c.c))
}

// failure turns a result that is not an outcome into an error.
func failure(call string, r C.th_result) error {
	if r == C.TH_TRAPPED {
		return fmt.Errorf("%s: %w", call, ErrTrapped)
	}
	return fmt.Errorf("tophat: %s: %s", call, C.GoString(C.th_result_name(r)))
}

// empty stands in for a zero-length input: the C binding takes no NULL buffers.
var empty = [1]byte{}

// cbytes pins b for the duration of a call (cgo allows passing Go memory without Go
// pointers in it).
func cbytes(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return unsafe.Pointer(&empty[0])
	}
	return unsafe.Pointer(&b[0])
}

func span(s C.th_span) Span { return Span{Start: uint32(s.start), Len: uint32(s.len)} }

func headers(p *C.th_header, n C.uint32_t) []Header {
	if n == 0 {
		return []Header{}
	}
	src := unsafe.Slice(p, int(n))
	out := make([]Header, len(src))
	for i, h := range src {
		out[i] = Header{Name: span(h.name), Value: span(h.value)}
	}
	return out
}

// ParseHead parses the request head at the start of b. To keep a connection's work
// linear, call it on a head's first read, then after Incomplete only when MayEndHead
// says the bytes not searched yet may end the head, or when you hold MaxHeadBytes.
func (c *Core) ParseHead(b []byte, l Limits) (ParseOutcome, error) {
	calls.Lock()
	defer calls.Unlock()
	if c.c == nil {
		return ParseOutcome{}, ErrClosed
	}
	cl := l.c()
	r := C.th_parse_head(c.c, cbytes(b), C.size_t(len(b)), &cl, c.parse)
	switch r {
	case C.TH_INCOMPLETE:
		return ParseOutcome{Kind: Incomplete, SearchFrom: uint32(c.parse.search_from)}, nil
	case C.TH_INVALID:
		return ParseOutcome{Kind: Invalid, Rejection: rejectionOf(c.parse.rejection)}, nil
	case C.TH_COMPLETE:
		h := &c.parse.head
		head := RequestHead{
			Method: span(h.method), Target: span(h.target), Path: span(h.path),
			Version: HTTPVersion(h.version), Headers: headers(h.headers, h.header_count),
			HeadLength: uint32(h.head_length), Body: BodyFraming(h.body), ContentLength: uint64(h.content_length),
			KeepAlive: bool(h.keep_alive), ExpectContinue: bool(h.expect_continue), Upgrade: bool(h.upgrade),
		}
		if h.has_query {
			q := span(h.query)
			head.Query = &q
		}
		if h.has_authority {
			a := span(h.authority)
			head.Authority = &a
		}
		return ParseOutcome{Kind: Complete, Head: head}, nil
	}
	return ParseOutcome{}, failure("parse-head", r)
}

// MayEndHead says whether b holds LF CR LF or LF LF starting with an LF at or after from:
// the only way a head that was Incomplete can end. After Incomplete, search from
// max(SearchFrom, searched-2), searched being how many bytes you held at the previous
// search.
func MayEndHead(b []byte, from int) bool {
	if from < 0 {
		from = 0
	}
	return bool(C.th_may_end_head(cbytes(b), C.size_t(len(b)), C.size_t(from)))
}

// ChunkedPhase is where a chunked decoder is in the body.
type ChunkedPhase int

// The phases of the chunked decoder; a body starts in SizeLine.
const (
	SizeLine ChunkedPhase = iota
	Data
	DataEnd
	Trailers
	Done
)

// String is the WIT's name ("size-line", ...).
func (p ChunkedPhase) String() string {
	return C.GoString(C.th_chunked_phase_name(C.th_chunked_phase(p)))
}

// ChunkedState travels in and out of every DecodeChunked call; the zero value is the
// initial state.
type ChunkedState struct {
	Phase                      ChunkedPhase
	Remaining                  uint64
	TrailerBytes, TrailerCount uint32
}

// ChunkedProgress is what one DecodeChunked call decoded. Keep the bytes after Consumed
// and pass them (with more) in the next call; if Consumed is more than 0 and less than
// the input, call again at once with the rest.
type ChunkedProgress struct {
	Consumed uint32
	// The body data in the input, in order.
	Data []Span
	// Trailer fields completed in this call: never merge them into the headers.
	Trailers []Header
	State    ChunkedState
}

// DecodeChunked decodes as much of a chunked body as b holds. A malformed body gives a
// non-nil *Rejection.
func (c *Core) DecodeChunked(b []byte, s ChunkedState, l Limits) (ChunkedProgress, *Rejection, error) {
	calls.Lock()
	defer calls.Unlock()
	if c.c == nil {
		return ChunkedProgress{}, nil, ErrClosed
	}
	cl := l.c()
	cs := C.th_chunked_state{phase: C.th_chunked_phase(s.Phase), remaining: C.uint64_t(s.Remaining), trailer_bytes: C.uint32_t(s.TrailerBytes), trailer_count: C.uint32_t(s.TrailerCount)}
	r := C.th_decode_chunked(c.c, cbytes(b), C.size_t(len(b)), &cs, &cl, c.decode)
	switch r {
	case C.TH_INVALID:
		rej := rejectionOf(c.decode.rejection)
		return ChunkedProgress{}, &rej, nil
	case C.TH_OK:
		d := c.decode
		data := []Span{}
		if d.data_count > 0 {
			for _, sp := range unsafe.Slice(d.data, int(d.data_count)) {
				data = append(data, span(sp))
			}
		}
		st := d.state
		return ChunkedProgress{
			Consumed: uint32(d.consumed), Data: data, Trailers: headers(d.trailers, d.trailer_count),
			State: ChunkedState{Phase: ChunkedPhase(st.phase), Remaining: uint64(st.remaining), TrailerBytes: uint32(st.trailer_bytes), TrailerCount: uint32(st.trailer_count)},
		}, nil, nil
	}
	return ChunkedProgress{}, nil, failure("chunked.decode", r)
}

// Field is a response header or trailer field set by the application.
type Field struct{ Name, Value string }

// ResponseHead is the response to frame.
type ResponseHead struct {
	// 100–999.
	Status uint16
	// The reason phrase; nil for the standard one.
	Reason  *string
	Headers []Field
	// The body length when known up front; nil for a streamed body. 1xx, 204, 205 and
	// 304 need a length of 0.
	BodyLength *uint64
}

// RequestContext is what the framer needs to know about the request being answered.
// Connect: the request was CONNECT, and a 2xx opens a tunnel (no framing fields, mode
// none, Close false).
type RequestContext struct{ Head, HTTP10, Close, Connect bool }

// BodyMode says how to write the body after a framed head.
type BodyMode int

// The ways to write a body.
const (
	ModeNone BodyMode = iota
	ModeContentLength
	ModeChunked
	ModeCloseDelimited
)

// String is the WIT's name ("none", "content-length", "chunked", "close-delimited").
func (m BodyMode) String() string { return C.GoString(C.th_body_mode_name(C.th_body_mode(m))) }

// FramedHead is a framed response head, ready for the wire.
type FramedHead struct {
	Bytes         []byte
	Body          BodyMode
	ContentLength uint64
	// Close the connection after this response.
	Close bool
}

// FrameErrorReason says why a response could not be framed.
type FrameErrorReason int

// String is the WIT's name ("bad-status", ...).
func (r FrameErrorReason) String() string {
	return C.GoString(C.th_frame_error_reason_name(C.th_frame_error_reason(r)))
}

// FrameError is why a response could not be framed; HeaderIndex names the field at fault.
type FrameError struct {
	Reason      FrameErrorReason
	HeaderIndex *uint32
}

// Error makes a FrameError usable as an error.
func (e *FrameError) Error() string {
	if e.HeaderIndex != nil {
		return fmt.Sprintf("tophat: the response cannot be framed: %s (field %d)", e.Reason, *e.HeaderIndex)
	}
	return "tophat: the response cannot be framed: " + e.Reason.String()
}

func frameErrorOf(e C.th_frame_error) *FrameError {
	out := &FrameError{Reason: FrameErrorReason(e.reason)}
	if e.has_header_index {
		i := uint32(e.header_index)
		out.HeaderIndex = &i
	}
	return out
}

// cfields copies fields into one C allocation (cgo forbids C memory pointing into Go
// memory across a call's arrays); free it with C.free.
func cfields(fields []Field) (*C.th_field, unsafe.Pointer) {
	size := len(fields) * int(C.sizeof_th_field)
	for _, f := range fields {
		size += len(f.Name) + len(f.Value)
	}
	block := C.malloc(C.size_t(size + 1))
	list := unsafe.Slice((*C.th_field)(block), len(fields))
	text := unsafe.Add(block, len(fields)*int(C.sizeof_th_field))
	put := func(s string) (*C.char, C.size_t) {
		p := (*C.char)(text)
		copy(unsafe.Slice((*byte)(text), len(s)), s)
		text = unsafe.Add(text, len(s))
		return p, C.size_t(len(s))
	}
	for i, f := range fields {
		list[i].name, list[i].name_len = put(f.Name)
		list[i].value, list[i].value_len = put(f.Value)
	}
	return (*C.th_field)(block), block
}

// FrameHead frames a response head, adding Date (from date, an IMF-fixdate such as
// IMFFixdate makes; "" for none) unless a field has one, the framing field and
// Connection as needed. A response that cannot be framed gives a non-nil *FrameError.
func (c *Core) FrameHead(resp ResponseHead, req RequestContext, date string) (FramedHead, *FrameError, error) {
	calls.Lock()
	defer calls.Unlock()
	if c.c == nil {
		return FramedHead{}, nil, ErrClosed
	}
	list, block := cfields(resp.Headers)
	defer C.free(block)
	extra := date
	var rh C.th_response_head
	rh.status = C.uint16_t(resp.Status)
	rh.headers = list
	rh.header_count = C.size_t(len(resp.Headers))
	if resp.Reason != nil {
		extra = *resp.Reason + date
	}
	strs := C.CBytes([]byte(extra + "\x00"))
	defer C.free(strs)
	if resp.Reason != nil {
		rh.reason = (*C.char)(strs)
		rh.reason_len = C.size_t(len(*resp.Reason))
	}
	if resp.BodyLength != nil {
		rh.has_body_length = true
		rh.body_length = C.uint64_t(*resp.BodyLength)
	}
	var datePtr *C.char
	if date != "" {
		datePtr = (*C.char)(unsafe.Add(strs, len(extra)-len(date)))
	}
	ctx := C.th_request_context{head: C.bool(req.Head), http10: C.bool(req.HTTP10), close: C.bool(req.Close), connect: C.bool(req.Connect)}
	r := C.th_frame_head(c.c, &rh, &ctx, datePtr, C.size_t(len(date)), c.framed)
	switch r {
	case C.TH_OK:
		f := c.framed
		return FramedHead{Bytes: C.GoBytes(unsafe.Pointer(f.bytes), C.int(f.len)), Body: BodyMode(f.body), ContentLength: uint64(f.content_length), Close: bool(f.close)}, nil, nil
	case C.TH_INVALID:
		return FramedHead{}, frameErrorOf(c.framed.error), nil
	}
	return FramedHead{}, nil, failure("frame-head", r)
}

// ChunkSizeLine is the chunk-size line (hex size and CRLF) before size bytes of chunk data.
func (c *Core) ChunkSizeLine(size uint64) ([]byte, error) {
	calls.Lock()
	defer calls.Unlock()
	if c.c == nil {
		return nil, ErrClosed
	}
	if r := C.th_chunk_size_line(c.c, C.uint64_t(size), c.wire); r != C.TH_OK {
		return nil, failure("chunk-size-line", r)
	}
	return C.GoBytes(unsafe.Pointer(c.wire.bytes), C.int(c.wire.len)), nil
}

// LastChunk is the last chunk, the trailer fields and the final CRLF of a chunked body.
func (c *Core) LastChunk(trailers []Field) ([]byte, *FrameError, error) {
	calls.Lock()
	defer calls.Unlock()
	if c.c == nil {
		return nil, nil, ErrClosed
	}
	list, block := cfields(trailers)
	defer C.free(block)
	switch r := C.th_last_chunk(c.c, list, C.size_t(len(trailers)), c.wire); r {
	case C.TH_OK:
		return C.GoBytes(unsafe.Pointer(c.wire.bytes), C.int(c.wire.len)), nil, nil
	case C.TH_INVALID:
		return nil, frameErrorOf(c.wire.error), nil
	default:
		return nil, nil, failure("last-chunk", r)
	}
}

// IMFFixdate formats t as an HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT"), the value of
// a Date field.
func IMFFixdate(t time.Time) string { return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT") }
