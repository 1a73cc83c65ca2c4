// The requests the parser benchmark feeds every parser.

const browserGet =
  "GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n" +
  "Host: www.kittyhell.com\r\n" +
  "User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n" +
  "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
  "Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n" +
  "Accept-Encoding: gzip,deflate\r\n" +
  "Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n" +
  "Keep-Alive: 115\r\n" +
  "Connection: keep-alive\r\n" +
  "Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx\r\n" +
  "Referer: http://www.kittyhell.com/\r\n" +
  "\r\n";

const tiny = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

let bigHeaders = "GET /api/items?page=2 HTTP/1.1\r\nHost: api.example.com\r\n";
for (let i = 0; bigHeaders.length < 4096; i++) {
  bigHeaders += `X-Custom-Header-${i}: ${"v".repeat(40)}-${i}\r\n`;
}
bigHeaders += "\r\n";

/** name → request bytes */
export const REQUESTS = {
  "browser GET (10 headers)": Buffer.from(browserGet, "latin1"),
  "tiny GET /": Buffer.from(tiny, "latin1"),
  "4 KiB of headers": Buffer.from(bigHeaders, "latin1"),
};
