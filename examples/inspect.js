// `npm run inspect`: a server that answers every request with what Tophat made of it — method,
// target, version, fields, body framing and size — as JSON, and logs one line per
// response from its ResponseWritten. Requests the core refuses get the library's own
// error response (try the second command below). Try:
//   curl -i 'http://127.0.0.1:8080/hello?x=1' -d 'some body'
//   printf 'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n' | nc 127.0.0.1 8080
import { serve } from "tophat";

const port = Number(process.env.PORT ?? 8080);

const server = await serve(
  async (req, res) => {
    const body = await req.bytes();
    return res
      .setJson({
        method: req.method,
        target: req.target,
        path: req.path,
        query: Object.fromEntries(req.query),
        httpVersion: req.httpVersion,
        headers: [...req.headers],
        framing: req.parsed.body,
        bodyBytes: body.length,
        trailers: [...req.trailers],
        keepAlive: req.parsed.keepAlive,
        remoteAddress: req.remoteAddress,
      })
      .send();
  },
  {
    port,
    onResponse: (req, written) =>
      console.log(
        `${req ? `${req.method} ${req.target}` : "(unparsable request)"} → ${written.status}, ` +
          `${written.bytesWritten} bytes in ${written.lastByteMs.toFixed(2)} ms, ${written.outcome}`,
      ),
  },
);
console.log(`inspecting requests on ${server.url}/`);
