// A small HTTP/1.1 server over Tophat's protocol core from Go (the same host loop as
// examples/core/server.js and the C and Python examples): it answers every request with
// its method, path and body length.
//
//	make -C ../c && go run ./examples/server   then   curl -i http://127.0.0.1:8080/hello
//
// PORT chooses the port (0: any free one). Each connection is a goroutine; the core
// serializes calls itself.
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"time"

	tophat "tophat.local/core"
)

var limits = tophat.DefaultLimits

func main() {
	core, err := tophat.New()
	if err != nil {
		log.Fatal(err)
	}
	defer core.Close()
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("core-only server on http://%s/\n", ln.Addr())
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(core, conn)
	}
}

// request is the request whose body is being read.
type request struct {
	method, path string
	http10, keep bool
	head         tophat.RequestHead
	received     uint64
	chunked      tophat.ChunkedState
	trailers     []string
}

// docs:start loop
func serve(core *tophat.Core, conn net.Conn) {
	defer closeGently(conn)
	var buf []byte
	searchFrom, searched := 0, 0 // where the search for the head's end resumes
	var req *request
	chunk := make([]byte, 64*1024)
	for {
		n, err := conn.Read(chunk)
		buf = append(buf, chunk[:n]...)
		for {
			if req == nil {
				// A head: parse on its first read, then only when it may have ended.
				if len(buf) == 0 {
					break
				}
				from := searchFrom
				if searched-2 > from {
					from = searched - 2
				}
				first := searched == 0
				searched = len(buf)
				if !first && len(buf) < int(limits.MaxHeadBytes) && !tophat.MayEndHead(buf, from) {
					break
				}
				out, cerr := core.ParseHead(buf, limits)
				if cerr != nil { // a trap: this connection fails, the core was re-made
					log.Print(cerr)
					return
				}
				if out.Kind == tophat.Incomplete {
					searchFrom = int(out.SearchFrom)
					break
				}
				if out.Kind == tophat.Invalid {
					respond(core, conn, out.Rejection.Status, tophat.RequestContext{Close: true}, out.Rejection.Reason.String()+"\n")
					return
				}
				h := out.Head
				req = &request{method: string(h.Method.Of(buf)), path: string(h.Path.Of(buf)), http10: h.Version == tophat.HTTP10, keep: h.KeepAlive, head: h}
				// An Upgrade request is served as a normal one: not answering 101 declines it.
				if h.ExpectContinue && h.Body != tophat.BodyNone {
					conn.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
				}
				buf = buf[h.HeadLength:]
				searchFrom, searched = 0, 0
			}
			done, ok := readBody(core, conn, req, &buf)
			if !ok {
				return
			}
			if !done {
				break
			}
			text := fmt.Sprintf("%s %s %d%s\n", req.method, req.path, req.received, strings.Join(req.trailers, ""))
			ctx := tophat.RequestContext{Head: req.method == "HEAD", HTTP10: req.http10, Close: !req.keep}
			if !respond(core, conn, 200, ctx, text) {
				return
			}
			req = nil
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				log.Print(err)
			}
			return
		}
	}
}

// docs:end loop

// closeGently ends the connection after what was written: our side first, then a short
// drain, so a client still sending doesn't get a reset that could cost it the response.
func closeGently(conn net.Conn) {
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.CloseWrite()
		conn.SetReadDeadline(time.Now().Add(time.Second))
		io.Copy(io.Discard, conn)
	}
	conn.Close()
}

// readBody consumes body bytes from buf: done when the body is complete; ok false when
// the connection must end (a refused chunked body was answered).
func readBody(core *tophat.Core, conn net.Conn, r *request, buf *[]byte) (done, ok bool) {
	switch r.head.Body {
	case tophat.BodyNone:
		return true, true
	case tophat.BodyContentLength:
		take := uint64(len(*buf))
		if left := r.head.ContentLength - r.received; take > left {
			take = left
		}
		r.received += take
		*buf = (*buf)[take:]
		return r.received == r.head.ContentLength, true
	}
	for {
		p, rej, err := core.DecodeChunked(*buf, r.chunked, limits)
		if err != nil {
			log.Print(err)
			return false, false
		}
		if rej != nil {
			respond(core, conn, rej.Status, tophat.RequestContext{Close: true, HTTP10: r.http10}, rej.Reason.String()+"\n")
			return false, false
		}
		for _, s := range p.Data {
			r.received += uint64(s.Len)
		}
		// Trailer fields are kept apart: they never join the request's headers.
		for _, t := range p.Trailers {
			r.trailers = append(r.trailers, fmt.Sprintf(" %s=%s", t.Name.Of(*buf), t.Value.Of(*buf)))
		}
		*buf = (*buf)[p.Consumed:]
		r.chunked = p.State
		if p.State.Phase == tophat.Done {
			return true, true
		}
		if p.Consumed == 0 || len(*buf) == 0 {
			return false, true
		}
	}
}

// respond frames and writes a response; false when the connection must close after it.
func respond(core *tophat.Core, conn net.Conn, status uint16, ctx tophat.RequestContext, text string) bool {
	length := uint64(len(text))
	head, ferr, err := core.FrameHead(tophat.ResponseHead{
		Status:     status,
		Headers:    []tophat.Field{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}},
		BodyLength: &length,
	}, ctx, tophat.IMFFixdate(time.Now()))
	if err != nil || ferr != nil {
		log.Print(err, ferr)
		return false
	}
	out := head.Bytes
	if head.Body != tophat.ModeNone {
		out = append(append([]byte{}, out...), text...)
	}
	if _, err := conn.Write(out); err != nil {
		return false
	}
	return !head.Close
}
