#!/usr/bin/env python3
"""While stream A generates, B sends a 100-token prompt; prints both
results. serve-chunked.test checks the model calls' order in the trace."""
import http.client
import json
import os
import urllib.parse

url = urllib.parse.urlparse(os.environ["URL"])
a = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
a.request("POST", "/v1/completions", json.dumps(
    {"prompt": [2, 17, 93], "max_tokens": 40, "temperature": 0, "stream": True}))
ra = a.getresponse()
first = ra.readline()  # A is generating once its first event is here
print("A first event:", first.startswith(b"data: "))
b = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
b.request("POST", "/v1/completions", json.dumps(
    {"prompt": [2] + [5] * 99, "max_tokens": 1, "temperature": 0}))
rb = b.getresponse()
print("B:", rb.status, json.loads(rb.read())["usage"])
rest = ra.read().decode()
print("A done:", rest.rstrip().endswith("data: [DONE]"))
