#!/usr/bin/env python3
"""Concurrent greedy clients against $URL; every answer must equal the CLI's.

  load.py MODEL --clients N --requests M [--prompts P] [--max-tokens LO,HI]

Client c sends M requests over one keep-alive connection, cycling through
chat / completion and streamed / whole answers, prompt (c * 7 + k) % P and
max_tokens LO..HI. The expected text of each (kind, prompt, max_tokens) is
what the binary's CLI prints for it (`MODEL --prompt TEXT [--raw] --greedy
--max-new-tokens K`), so a response mixed with another sequence's tokens, a
lost or duplicated piece, or a wrong finish reason is a mismatch. Prints one
line per mismatch (at most 10) and "load: R responses, X mismatches, E
errors"; exits 1 unless all R = N * M responses matched.
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import urllib.parse


def cli_text(model, kind, prompt, k):
    cmd = [model, "--prompt", prompt, "--greedy", "--max-new-tokens", str(k)]
    if kind == "completion":
        cmd.append("--raw")
    out = subprocess.run(cmd, stdout=subprocess.PIPE, check=True).stdout.decode("utf-8")
    # The CLI ends a reply that printed tokens with one newline.
    return out[:-1] if out.endswith("\n") else out


def request(conn, kind, prompt, k, stream):
    if kind == "chat":
        path = "/v1/chat/completions"
        body = {"messages": [{"role": "user", "content": prompt}]}
    else:
        path = "/v1/completions"
        body = {"prompt": prompt}
    body.update({"temperature": 0, "max_tokens": k, "stream": stream})
    if stream:
        body["stream_options"] = {"include_usage": True}
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read().decode("utf-8")
    if resp.status != 200:
        raise RuntimeError("HTTP %d: %s" % (resp.status, data[:200]))
    if not stream:
        j = json.loads(data)
        c = j["choices"][0]
        text = c["message"]["content"] if kind == "chat" else c["text"]
        return text, c["finish_reason"], j["usage"]["completion_tokens"]
    text, finish, usage, done = "", None, None, False
    for event in data.split("\n\n"):
        if not event.strip():
            continue
        assert event.startswith("data: "), event
        payload = event[6:]
        if payload == "[DONE]":
            done = True
            continue
        assert not done, "an event after [DONE]"
        j = json.loads(payload)
        if j.get("usage"):
            usage = j["usage"]["completion_tokens"]
        for c in j["choices"]:
            if kind == "chat":
                text += c["delta"].get("content", "")
            else:
                text += c["text"]
            if c["finish_reason"]:
                finish = c["finish_reason"]
    if not done:
        raise RuntimeError("stream without [DONE]")
    return text, finish, usage


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--max-tokens", default="2,6")
    a = ap.parse_args()
    lo, hi = (int(x) for x in a.max_tokens.split(","))
    prompts = ["hello %d%s" % (i, " world" * (i % 3)) for i in range(a.prompts)]
    kinds = ["chat", "completion"]

    plan = []  # per client: [(kind, prompt index, k, stream)]
    for c in range(a.clients):
        plan.append([(kinds[k % 2], (c * 7 + k) % a.prompts, lo + (c + k) % (hi - lo + 1),
                      (k // 2) % 2 == 1) for k in range(a.requests)])
    want = {}
    for reqs in plan:
        for kind, p, k, _ in reqs:
            if (kind, p, k) not in want:
                want[(kind, p, k)] = cli_text(a.model, kind, prompts[p], k)

    url = urllib.parse.urlparse(os.environ["URL"])
    lock = threading.Lock()
    results = {"ok": 0, "mismatch": 0, "error": 0}
    notes = []

    def client(c):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        for kind, p, k, stream in plan[c]:
            try:
                text, finish, used = request(conn, kind, prompts[p], k, stream)
                w = want[(kind, p, k)]
                good = text == w and used is not None and 1 <= used <= k and \
                    finish == ("length" if used == k else "stop")
                with lock:
                    results["ok" if good else "mismatch"] += 1
                    if not good:
                        notes.append("client %d %s %r k=%d stream=%s: got %r (%s, %s tokens), "
                                     "want %r" % (c, kind, prompts[p], k, stream, text, finish,
                                                  used, w))
            except Exception as e:  # noqa: BLE001 - reported as a failure
                with lock:
                    results["error"] += 1
                    notes.append("client %d: %s" % (c, e))
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in notes[:10]:
        print("mismatch: " + n)
    total = sum(results.values())
    print("load: %d responses, %d mismatches, %d errors (%d distinct expected texts)" %
          (total, results["mismatch"], results["error"], len(want)))
    sys.exit(0 if results["ok"] == a.clients * a.requests else 1)


if __name__ == "__main__":
    main()
