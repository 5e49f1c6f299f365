#!/usr/bin/env bash
# A cold `weft flow run examples/chat.weft.yaml` against a zero-latency endpoint on 127.0.0.1 (an
# azure_ai connection on its base URL, so the OpenAI v1 route):
# process start, store and keychain, validation, the run, history. Needs the keychain session:
#   dbus-run-session -- bash .ci/with-session.sh scripts/bench-cold-run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release -q -p weft-cli -p weft-testkit --bin weft --bin fake-endpoint
export WEFT_HOME; WEFT_HOME="$(mktemp -d)"
export WEFT_KEYRING_SERVICE="weft-bench-$$"
coproc FAKE { target/release/fake-endpoint; }
trap 'kill "$FAKE_PID" 2>/dev/null || true; target/release/weft connection delete azure-ai >/dev/null 2>&1 || true; rm -rf "$WEFT_HOME"' EXIT
read -r base <&"${FAKE[0]}"
echo bench-key | target/release/weft connection create --name azure-ai --type azure_ai \
  --set "endpoint=$base" --secret api_key >/dev/null
hyperfine -N --warmup 5 --runs 50 \
  "target/release/weft flow run examples/chat.weft.yaml --input question=hi"
