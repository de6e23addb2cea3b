#!/usr/bin/env bash
# --api-key KEY: /v1/ needs "Authorization: Bearer KEY"; /health and
# /metrics do not. Also: a second server cannot take the same port.
set -u
chat='{"messages":[{"role":"user","content":"hello"}],"max_tokens":1}'
code() { curl -sS -o "$1" -w '%{http_code}' "${@:2}"; }
echo "no key: $(code /tmp/$$.a -X POST "$URL/v1/chat/completions" -d "$chat") $(cat /tmp/$$.a)"
echo "wrong key: $(code /tmp/$$.a -H 'Authorization: Bearer nope' "$URL/v1/models") $(cat /tmp/$$.a)"
echo "not bearer: $(code /tmp/$$.a -H 'Authorization: sekrit' "$URL/v1/models")"
echo "right key: $(code /tmp/$$.a -H 'Authorization: Bearer sekrit' "$URL/v1/models")"
echo "health: $(code /tmp/$$.a "$URL/health")"
echo "metrics: $(code /tmp/$$.a "$URL/metrics")"
rm -f /tmp/$$.a
port=${URL##*:}
"$1" --serve --port "$port" 2>&1
echo "second server exit: $?"
