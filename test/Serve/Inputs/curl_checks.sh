#!/usr/bin/env bash
# Every endpoint and every class of bad input, with curl, against $URL
# (run_server.py). Each check prints "== NAME" and then the status and the
# body; serve-curl.test checks them with FileCheck.
set -u
post() { # post PATH BODY [curl args...]
  local path=$1 body=$2
  shift 2
  curl -sS -X POST "$URL$path" -H 'Content-Type: application/json' --data-binary "$body" \
    -w '\nstatus %{http_code}\n' "$@"
}
get() { curl -sS "$URL$1" -w '\nstatus %{http_code}\n'; }

echo "== health"; get /health
echo "== models"; get /v1/models
echo "== chat"
post /v1/chat/completions '{"model":"x","messages":[{"role":"user","content":"hello"}],"temperature":0,"max_tokens":4}'
echo "== chat parts"
post /v1/chat/completions '{"messages":[{"role":"system","content":"hi"},{"role":"user","content":[{"type":"text","text":"hel"},{"type":"text","text":"lo"}]}],"temperature":0,"max_tokens":3}'
echo "== chat stream"
post /v1/chat/completions '{"messages":[{"role":"user","content":"hello"}],"temperature":0,"max_tokens":3,"stream":true,"stream_options":{"include_usage":true}}' -N
echo "== completion ids"
post /v1/completions '{"prompt":[2,17,93],"temperature":0,"max_tokens":5}'
echo "== completion text stream"
post /v1/completions '{"prompt":"hello","temperature":0,"max_tokens":2,"stream":true}' -N
echo "== completion stop string"
post /v1/completions '{"prompt":"hello","temperature":0,"max_tokens":40,"stop":[" world","zzz"]}'

echo "== malformed json"; post /v1/chat/completions '{"messages": ['
echo "== not an object"; post /v1/chat/completions '[1,2]'
echo "== invalid utf8"; post /v1/chat/completions "$(printf '{"messages":[{"role":"user","content":"\xff"}]}')"
echo "== deep nesting"; post /v1/chat/completions "$(python3 -c "print('['*3000)")"
echo "== missing messages"; post /v1/chat/completions '{"model":"x"}'
echo "== wrong type"; post /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],"max_tokens":"5"}'
echo "== wrong content type"; post /v1/chat/completions '{"messages":[{"role":"user","content":7}]}'
echo "== unknown role"; post /v1/chat/completions '{"messages":[{"role":"wizard","content":"hi"}]}'
echo "== image part"; post /v1/chat/completions '{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}'
echo "== n"; post /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],"n":2}'
echo "== temperature range"; post /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],"temperature":3}'
echo "== stop type"; post /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],"stop":[1]}'
echo "== template refuses"; post /v1/chat/completions '{"messages":[{"role":"tool","content":"42"}]}'
echo "== prompt id range"; post /v1/completions '{"prompt":[2,384]}'
echo "== prompt missing"; post /v1/completions '{"max_tokens":2}'
echo "== prompt beyond context"
post /v1/completions "{\"prompt\":[$(python3 -c "print(','.join(['5']*64))")]}"
echo "== chat beyond context"
post /v1/chat/completions "{\"messages\":[{\"role\":\"user\",\"content\":\"$(python3 -c "print('hello '*30)")\"}]}"
echo "== max_tokens beyond context"; post /v1/completions '{"prompt":[2,17,93],"max_tokens":62}'
echo "== oversized body"
post /v1/chat/completions "{\"messages\":[{\"role\":\"user\",\"content\":\"$(python3 -c "print('a'*5000)")\"}]}"
echo "== no such endpoint"; get /v1/embeddings
echo "== wrong method"; get /v1/chat/completions

echo "== still serving"
post /v1/chat/completions '{"messages":[{"role":"user","content":"hello"}],"temperature":0,"max_tokens":4}'
echo "== metrics"; get /metrics
