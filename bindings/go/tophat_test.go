package tophat

// The Go binding gives exactly the TypeScript thin binding's outcomes. The expected
// outcomes come from test/support/expected-outcomes.ts, which test/binding-go.test.ts
// writes to the file TOPHAT_EXPECTED names; without it only the self-contained tests run.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"reflect"
	"strconv"
	"testing"
)

type limitsJSON struct {
	MaxHeadBytes            uint32 `json:"maxHeadBytes"`
	MaxHeaders              uint32 `json:"maxHeaders"`
	MaxTargetLength         uint32 `json:"maxTargetLength"`
	MaxChunkExtensionLength uint32 `json:"maxChunkExtensionLength"`
}

func (l limitsJSON) limits() Limits {
	return Limits{l.MaxHeadBytes, l.MaxHeaders, l.MaxTargetLength, l.MaxChunkExtensionLength}
}

type expected struct {
	Parse []struct {
		What     string          `json:"what"`
		Input    string          `json:"input"`
		Limits   limitsJSON      `json:"limits"`
		Expected json.RawMessage `json:"expected"`
	} `json:"parse"`
	Chunked []struct {
		What     string          `json:"what"`
		Body     string          `json:"body"`
		Limits   limitsJSON      `json:"limits"`
		Mode     string          `json:"mode"`
		Expected json.RawMessage `json:"expected"`
	} `json:"chunked"`
	Frames []struct {
		What     string `json:"what"`
		Response struct {
			Status     uint16      `json:"status"`
			Reason     *string     `json:"reason"`
			Headers    [][2]string `json:"headers"`
			BodyLength *float64    `json:"bodyLength"`
		} `json:"response"`
		Context struct {
			Head    bool `json:"head"`
			HTTP10  bool `json:"http10"`
			Close   bool `json:"close"`
			Connect bool `json:"connect"`
		} `json:"context"`
		Date     *string         `json:"date"`
		Expected json.RawMessage `json:"expected"`
	} `json:"frames"`
	ChunkSizes []struct {
		Size     float64 `json:"size"`
		Expected string  `json:"expected"`
	} `json:"chunkSizes"`
	Trailers []struct {
		What     string          `json:"what"`
		Fields   [][2]string     `json:"fields"`
		Expected json.RawMessage `json:"expected"`
	} `json:"trailers"`
}

type obj = map[string]any

// u64 is a 64-bit value as the JS side normalizes it: a number when exact, else a string.
func u64(v uint64) any {
	if v <= 1<<53-1 {
		return v
	}
	return strconv.FormatUint(v, 10)
}

// latin1 is bytes as a string of one character per byte, as the JS side prints them.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, x := range b {
		r[i] = rune(x)
	}
	return string(r)
}

func spanJSON(s Span) obj { return obj{"start": s.Start, "len": s.Len} }

func optSpan(s *Span) any {
	if s == nil {
		return nil
	}
	return spanJSON(*s)
}

func headersJSON(hs []Header) []any {
	out := []any{}
	for _, h := range hs {
		out = append(out, obj{"name": spanJSON(h.Name), "value": spanJSON(h.Value)})
	}
	return out
}

func rejectionJSON(r Rejection) obj {
	return obj{"reason": r.Reason.String(), "status": r.Status, "offset": r.Offset}
}

func parseJSON(o ParseOutcome) obj {
	switch o.Kind {
	case Incomplete:
		return obj{"tag": "incomplete", "val": o.SearchFrom}
	case Invalid:
		return obj{"tag": "invalid", "val": rejectionJSON(o.Rejection)}
	}
	h := o.Head
	body := obj{"tag": h.Body.String()}
	if h.Body == BodyContentLength {
		body["val"] = u64(h.ContentLength)
	}
	return obj{"tag": "complete", "val": obj{
		"method": spanJSON(h.Method), "target": spanJSON(h.Target), "path": spanJSON(h.Path),
		"query": optSpan(h.Query), "authority": optSpan(h.Authority), "version": h.Version.String(),
		"headers": headersJSON(h.Headers), "headLength": h.HeadLength, "body": body,
		"keepAlive": h.KeepAlive, "expectContinue": h.ExpectContinue, "upgrade": h.Upgrade,
	}}
}

func chunkedJSON(p ChunkedProgress, rej *Rejection) obj {
	if rej != nil {
		return obj{"tag": "invalid", "val": rejectionJSON(*rej)}
	}
	data := []any{}
	for _, s := range p.Data {
		data = append(data, spanJSON(s))
	}
	return obj{"tag": "progress", "val": obj{
		"consumed": p.Consumed, "data": data, "trailers": headersJSON(p.Trailers),
		"state": obj{"phase": p.State.Phase.String(), "remaining": u64(p.State.Remaining), "trailerBytes": p.State.TrailerBytes, "trailerCount": p.State.TrailerCount},
	}}
}

func frameErrorJSON(e *FrameError) obj {
	var i any
	if e.HeaderIndex != nil {
		i = *e.HeaderIndex
	}
	return obj{"tag": "invalid", "val": obj{"reason": e.Reason.String(), "headerIndex": i}}
}

// same compares an outcome with the expected JSON after a round trip through JSON.
func same(t *testing.T, what string, got any, want json.RawMessage) bool {
	t.Helper()
	raw, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var g, w any
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got  %s\n want %s", what, raw, want)
		return false
	}
	return true
}

func decodeB64(t *testing.T, s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSameOutcomesAsTheThinBinding(t *testing.T) {
	file := os.Getenv("TOPHAT_EXPECTED")
	if file == "" {
		t.Skip("TOPHAT_EXPECTED is not set: test/binding-go.test.ts writes the thin binding's outcomes and sets it")
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var exp expected
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Parse) < 1000 || len(exp.Chunked) < 50 || len(exp.Frames) < 20 {
		t.Fatalf("too few expected outcomes: %d parse, %d chunked, %d frames", len(exp.Parse), len(exp.Chunked), len(exp.Frames))
	}
	core, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	failures := 0
	for _, c := range exp.Parse {
		out, err := core.ParseHead(decodeB64(t, c.Input), c.Limits.limits())
		if err != nil {
			t.Fatalf("%s: %v", c.What, err)
		}
		if !same(t, c.What, parseJSON(out), c.Expected) {
			if failures++; failures > 10 {
				t.FailNow()
			}
		}
	}
	for _, c := range exp.Chunked {
		body := decodeB64(t, c.Body)
		var got []any
		if c.Mode == "whole" {
			p, rej, err := core.DecodeChunked(body, ChunkedState{}, c.Limits.limits())
			if err != nil {
				t.Fatalf("%s: %v", c.What, err)
			}
			got = append(got, chunkedJSON(p, rej))
		} else {
			// One byte at a time, the unconsumed rest held, the state carried.
			var state ChunkedState
			var held []byte
			for i := range body {
				buf := append(append([]byte{}, held...), body[i])
				p, rej, err := core.DecodeChunked(buf, state, c.Limits.limits())
				if err != nil {
					t.Fatalf("%s: %v", c.What, err)
				}
				got = append(got, chunkedJSON(p, rej))
				if rej != nil {
					break
				}
				state = p.State
				held = buf[p.Consumed:]
				if state.Phase == Done {
					break
				}
			}
		}
		same(t, c.What, got, c.Expected)
	}
	for _, c := range exp.Frames {
		r := ResponseHead{Status: c.Response.Status, Reason: c.Response.Reason}
		for _, h := range c.Response.Headers {
			r.Headers = append(r.Headers, Field{Name: h[0], Value: h[1]})
		}
		if c.Response.BodyLength != nil {
			n := uint64(*c.Response.BodyLength)
			r.BodyLength = &n
		}
		date := ""
		if c.Date != nil {
			date = *c.Date
		}
		head, ferr, err := core.FrameHead(r, RequestContext{Head: c.Context.Head, HTTP10: c.Context.HTTP10, Close: c.Context.Close, Connect: c.Context.Connect}, date)
		if err != nil {
			t.Fatalf("%s: %v", c.What, err)
		}
		var got obj
		if ferr != nil {
			got = frameErrorJSON(ferr)
		} else {
			got = obj{"tag": "head", "val": obj{"bytes": latin1(head.Bytes), "body": head.Body.String(), "contentLength": u64(head.ContentLength), "close": head.Close}}
		}
		same(t, c.What, got, c.Expected)
	}
	for _, c := range exp.ChunkSizes {
		line, err := core.ChunkSizeLine(uint64(c.Size))
		if err != nil {
			t.Fatal(err)
		}
		if latin1(line) != c.Expected {
			t.Errorf("chunk-size-line %v: got %q want %q", c.Size, line, c.Expected)
		}
	}
	for _, c := range exp.Trailers {
		var fields []Field
		for _, f := range c.Fields {
			fields = append(fields, Field{Name: f[0], Value: f[1]})
		}
		b, ferr, err := core.LastChunk(fields)
		if err != nil {
			t.Fatalf("%s: %v", c.What, err)
		}
		var got obj
		if ferr != nil {
			got = frameErrorJSON(ferr)
		} else {
			got = obj{"tag": "bytes", "val": latin1(b)}
		}
		same(t, "last-chunk "+c.What, got, c.Expected)
	}
	t.Logf("%d parse-head, %d chunked, %d frame-head, %d chunk-size-line, %d last-chunk cases identical", len(exp.Parse), len(exp.Chunked), len(exp.Frames), len(exp.ChunkSizes), len(exp.Trailers))
}

// A head fed a byte at a time with the WIT's loop costs two core calls: the first byte
// and the one that ends the head.
func TestLinearFeeding(t *testing.T) {
	core, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	head := []byte("GET /feed HTTP/1.1\r\nHost: example.test\r\n")
	for i := 0; len(head) < 16000; i++ {
		head = append(head, []byte("X-Field-"+strconv.Itoa(i)+": "+string(bytes.Repeat([]byte("v"), 250))+"\r\n")...)
	}
	head = append(head, '\r', '\n')
	calls, searchFrom, searched := 0, 0, 0
	var out ParseOutcome
	for n := 1; n <= len(head); n++ {
		b := head[:n]
		from := searchFrom
		if searched-2 > from {
			from = searched - 2
		}
		first := searched == 0
		searched = n
		if !first && n < int(DefaultLimits.MaxHeadBytes) && !MayEndHead(b, from) {
			continue
		}
		calls++
		if out, err = core.ParseHead(b, DefaultLimits); err != nil {
			t.Fatal(err)
		}
		if out.Kind != Incomplete {
			break
		}
		searchFrom = int(out.SearchFrom)
	}
	if out.Kind != Complete || int(out.Head.HeadLength) != len(head) || calls != 2 {
		t.Fatalf("kind %v, head length %d of %d, %d calls (want complete in 2)", out.Kind, out.Head.HeadLength, len(head), calls)
	}
}

func TestClosedCoreRefusesCalls(t *testing.T) {
	core, err := New()
	if err != nil {
		t.Fatal(err)
	}
	core.Close()
	if _, err := core.ParseHead([]byte("GET / HTTP/1.1\r\n"), DefaultLimits); err != ErrClosed {
		t.Fatalf("got %v, want ErrClosed", err)
	}
}
