"""The asyncio example server (examples/server.py), driven by curl and raw sockets."""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from typing import List, Tuple

import pytest

from conftest import Server, unavailable


@pytest.fixture(scope="module", autouse=True)
def need_curl() -> None:
    if shutil.which("curl") is None:
        unavailable("the example-server tests need curl: apt-get install -y curl")


def curl(*args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(["curl", "-sS", "--max-time", "20", *args], capture_output=True, text=True, timeout=30)


def read_responses(sock: socket.socket, count: int) -> List[Tuple[bytes, bytes]]:
    """Reads `count` Content-Length responses (head, body) from `sock`, in order."""
    buf = b""
    out: List[Tuple[bytes, bytes]] = []
    sock.settimeout(10)
    while len(out) < count:
        end = buf.find(b"\r\n\r\n")
        if end != -1:
            head = buf[:end + 4]
            m = re.search(rb"\r\nContent-Length: (\d+)\r\n", head)
            assert m is not None, head
            n = int(m.group(1))
            if len(buf) >= end + 4 + n:
                out.append((head, buf[end + 4:end + 4 + n]))
                buf = buf[end + 4 + n:]
                continue
        data = sock.recv(65536)
        if not data:
            raise AssertionError(f"the server closed after {len(out)} responses; held {buf!r}")
        buf += data
    return out


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_keep_alive_reuses_one_connection(server: Server) -> None:
    r = curl("-v", f"{server.url}/one", f"{server.url}/two")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "GET /one body=0\nGET /two body=0\n"
    assert r.stderr.count("Connected to") == 1, r.stderr
    assert re.search(r"Re-using existing connection|Reusing existing", r.stderr), r.stderr


def test_chunked_upload(server: Server) -> None:
    body = "x" * 100_000
    r = curl("-H", "Transfer-Encoding: chunked", "--data-binary", body, f"{server.url}/upload")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "POST /upload body=100000\n"


def test_content_length_upload_with_expect_100_continue(server: Server) -> None:
    r = curl("-v", "-H", "Expect: 100-continue", "--data-binary", "hello", f"{server.url}/cl")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "POST /cl body=5\n"
    assert "HTTP/1.1 100 Continue" in r.stderr


def test_head_request_gets_the_length_but_no_body(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        sock.settimeout(10)
        # The second request asks to close, so everything sent ends at EOF.
        buf = b"".join(iter(lambda: sock.recv(65536), b""))
    head, rest = buf.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Length: 15\r\n" in head + b"\r\n"  # len("HEAD /h body=0\n"), as a GET would get
    # No body after the HEAD response: the next bytes are the next response.
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n"), rest
    assert rest.endswith(b"\r\n\r\nGET /after body=0\n")


def test_three_pipelined_requests_in_one_write(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
            b"POST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            b"POST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
        )
        responses = read_responses(sock, 3)
    assert [body for _, body in responses] == [b"GET /1 body=0\n", b"POST /2 body=3\n", b"POST /3 body=2\n"]
    assert all(head.startswith(b"HTTP/1.1 200 OK\r\n") for head, _ in responses)


def test_a_head_sent_a_byte_at_a_time(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for b in b"GET /slow HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n":
            sock.sendall(bytes([b]))
            time.sleep(0.001)
        [(head, body)] = read_responses(sock, 1)
        assert body == b"GET /slow body=0\n"
        assert b"\r\nConnection: close\r\n" in head
        assert closed_by_server(sock)


def test_a_bad_request_gets_the_cores_status_and_close(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\nGET /never HTTP/1.1\r\nHost: a\r\n\r\n")
        [(head, body)] = read_responses(sock, 1)
        assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n"), head
        assert b"\r\nConnection: close\r\n" in head
        assert body == b"rejected: multiple-host\n"
        assert closed_by_server(sock)


def test_curl_sees_a_rejection(server: Server) -> None:
    r = curl("-v", "-H", "Transfer-Encoding: gzip, chunked", "--data-binary", "x", f"{server.url}/te")
    assert r.returncode == 0, r.stderr
    assert "< HTTP/1.1 501 Not Implemented" in r.stderr
    assert "< Connection: close" in r.stderr
    assert r.stdout == "rejected: unsupported-transfer-coding\n"
