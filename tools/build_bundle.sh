#!/usr/bin/env bash
# Build the MCP Bundle (.mcpb) for Claude Desktop and validate it with the official tool.
#
# Usage: tools/build_bundle.sh [OUT]     (default OUT: dist/lanying-mcp-<version>.mcpb)
#
# The bundle carries bundle/manifest.json, pyproject.toml, README.md and the lanying_mcp package
# source: a "uv" server, so the host (Claude Desktop) installs Python and the dependencies from
# pyproject.toml itself and runs `uv run lanying-mcp` in the unpacked folder. The user_config
# fields become the LANYING_* variables; the access token is marked sensitive.
#
# @anthropic-ai/mcpb is installed once into build/mcpb-tools/ (git-ignored) and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
MCPB_SPEC=@anthropic-ai/mcpb@2.1.2
PY=$(command -v python || command -v python3)

version=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
manifest_version=$("$PY" -c 'import json; print(json.load(open("bundle/manifest.json"))["version"])')
if [ "$version" != "$manifest_version" ]; then
  echo "build_bundle: bundle/manifest.json has version $manifest_version, pyproject.toml $version" >&2
  exit 1
fi
out=${1:-dist/lanying-mcp-$version.mcpb}
case $out in /*) ;; *) out=$root/$out ;; esac
mkdir -p "$(dirname "$out")"

tools=$root/build/mcpb-tools
if [ ! -x "$tools/node_modules/.bin/mcpb" ] || [ "$(cat "$tools/installed.txt" 2>/dev/null)" != "$MCPB_SPEC" ]; then
  mkdir -p "$tools"
  [ -f "$tools/package.json" ] || printf '{"name": "lanying-mcp-bundle-tools", "private": true}\n' >"$tools/package.json"
  (cd "$tools" && npm install --no-audit --no-fund --loglevel=error "$MCPB_SPEC" >npm-install.log 2>&1) || {
    tail -20 "$tools/npm-install.log" >&2
    echo "build_bundle: npm install $MCPB_SPEC failed" >&2
    exit 1
  }
  printf '%s' "$MCPB_SPEC" >"$tools/installed.txt"
fi
mcpb=$tools/node_modules/.bin/mcpb

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp bundle/manifest.json pyproject.toml README.md "$stage/"
[ ! -f bundle/icon.png ] || cp bundle/icon.png "$stage/"
cp -R lanying_mcp "$stage/lanying_mcp"
find "$stage" \( -name __pycache__ -o -name '*.pyc' -o -name '*.egg-info' \) -prune -exec rm -rf {} +

"$mcpb" validate "$stage/manifest.json"
rm -f "$out"
"$mcpb" pack "$stage" "$out" >"$stage.pack.log" 2>&1 || { cat "$stage.pack.log" >&2; rm -f "$stage.pack.log"; exit 1; }
rm -f "$stage.pack.log"
"$mcpb" info "$out" | sed 's/^/  /'
echo "built ${out#"$root"/}"
