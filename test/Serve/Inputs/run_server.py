#!/usr/bin/env python3
"""Runs a command against a model's HTTP server, then stops the server.

  run_server.py [--log FILE] [--env K=V]... MODEL [SERVER FLAGS...] -- COMMAND...

Starts `MODEL --serve --port 0 [SERVER FLAGS]`, reads the port from its
"listening on http://HOST:PORT" line, runs COMMAND with $URL (the base URL),
$SERVER_PID and $SERVER_LOG set, then sends SIGTERM and waits (at most 30 s)
for the server to exit. Prints "server exit: N" on stdout after COMMAND's
output, and exits with COMMAND's status (or 1 when the server did not stop).
The server's stderr goes to --log (default: a temporary file, printed when
something fails).
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time


def main():
    args = sys.argv[1:]
    log = None
    env = dict(os.environ)
    while args and args[0].startswith("--"):
        if args[0] == "--log":
            log = args[1]
            args = args[2:]
        elif args[0] == "--env":
            k, v = args[1].split("=", 1)
            env[k] = v
            args = args[2:]
        else:
            sys.exit("run_server.py: unknown option " + args[0])
    if "--" not in args:
        sys.exit("run_server.py: no -- COMMAND")
    cut = args.index("--")
    server, command = args[:cut], args[cut + 1:]
    if log is None:
        log = tempfile.mktemp(prefix="serve-", suffix=".log")
    errf = open(log, "w+")
    proc = subprocess.Popen([server[0], "--serve", "--port", "0"] + server[1:], env=env,
                            stdout=subprocess.DEVNULL, stderr=errf)
    url = None
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        with open(log) as f:
            m = re.search(r"listening on (http://\S+)", f.read())
        if m:
            url = m.group(1)
            break
        time.sleep(0.02)
    if url is None:
        proc.kill()
        proc.wait()
        sys.stdout.write(open(log).read())
        print("run_server.py: the server did not start (exit %s)" % proc.returncode)
        sys.exit(1)
    cenv = dict(os.environ, URL=url, SERVER_PID=str(proc.pid), SERVER_LOG=log)
    sys.stdout.flush()
    try:
        status = subprocess.run(command, env=cenv, timeout=300).returncode
    except subprocess.TimeoutExpired:
        print("run_server.py: the command did not finish within 300 s")
        status = 1
    sys.stdout.flush()
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        print("server exit: did not stop within 30 s of SIGTERM")
        sys.stdout.write(open(log).read())
        sys.exit(1)
    print("server exit: %d" % code)
    if status != 0 or code != 0:
        sys.stderr.write(open(log).read())
    sys.exit(status)


if __name__ == "__main__":
    main()
