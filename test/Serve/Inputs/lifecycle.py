#!/usr/bin/env python3
"""A full queue, a client that disconnects mid-stream, and SIGTERM with a
stream in flight, against $URL (run_server.py) of a slow model
(FAKE_DELAY_US) served with --parallel 1 --queue 1. Prints one line per
check for FileCheck."""
import http.client
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse

url = urllib.parse.urlparse(os.environ["URL"])


def conn():
    return http.client.HTTPConnection(url.hostname, url.port, timeout=30)


def post(path, body):
    c = conn()
    c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    return r.status, dict(r.getheaders()), r.read().decode()


def metric(name):
    c = conn()
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def wait_metric(name, value, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if metric(name) == value:
            return True
        time.sleep(0.02)
    return False


def wait_until(cond, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.02)
    return False


def open_stream(max_tokens):
    """A raw streamed chat request; returns the socket after the first
    event after the role's (the first text) was read."""
    s = socket.create_connection((url.hostname, url.port), timeout=30)
    body = json.dumps({"messages": [{"role": "user", "content": "hello"}], "temperature": 0,
                       "max_tokens": max_tokens, "stream": True,
                       "stream_options": {"include_usage": True}})
    s.sendall(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
               "\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
    buf = b""
    while buf.count(b"data: ") < 2:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    return s, buf


def read_rest(s, buf):
    while not buf.endswith(b"0\r\n\r\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return buf.decode()


chat = {"messages": [{"role": "user", "content": "hello"}], "temperature": 0}

# 1. One stream generating, one request queued: the next one is refused.
a, _ = open_stream(200)
print("A generating:", wait_metric("gemma4_slots_busy", 1))
print("A's KV positions:", wait_until(lambda: metric("gemma4_kv_tokens_used") >= 18),
      metric("gemma4_kv_tokens_capacity"))
queued = {}
tb = threading.Thread(target=lambda: queued.update(r=post("/v1/chat/completions",
                                                         dict(chat, max_tokens=2))))
tb.start()
print("B queued:", wait_metric("gemma4_queue_depth", 1))
status, headers, body = post("/v1/chat/completions", dict(chat, max_tokens=2))
print("C:", status, "Retry-After:", headers.get("Retry-After"), body)

# 2. A's client goes away mid-stream: its slot is freed, B runs.
a.close()
print("A cancelled:", wait_metric("gemma4_requests_cancelled_total", 1))
tb.join()
print("B:", queued["r"][0], json.loads(queued["r"][2])["choices"][0]["finish_reason"])
print("rejected:", metric("gemma4_requests_rejected_total"))

# 3. SIGTERM while D streams: D finishes, new requests get 503, exit 0
#    (run_server.py prints the exit status).
d, head = open_stream(100)
os.kill(int(os.environ["SERVER_PID"]), signal.SIGTERM)
time.sleep(0.2)
c = conn()
c.request("GET", "/health")
r = c.getresponse()
print("health while draining:", r.status, r.read().decode())
status, headers, body = post("/v1/chat/completions", dict(chat, max_tokens=2))
print("E while draining:", status, "Retry-After:", headers.get("Retry-After"), body)
rest = read_rest(d, head)
events = [e for e in re.findall(r"data: (.*)", rest)]
usage = [json.loads(e)["usage"] for e in events if e != "[DONE]" and json.loads(e).get("usage")]
finish = [json.loads(e)["choices"][0]["finish_reason"] for e in events
          if e != "[DONE]" and json.loads(e)["choices"]]
print("D:", "finish", [f for f in finish if f], "usage", usage, "last", events[-1])
