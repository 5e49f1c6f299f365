# What the benchmark scripts share (sourced, not run): a release build of `weft` and the chat fake
# (crates/weft-testkit/src/limited.rs through the `fake-endpoint` binary), a private store and
# keychain service, the fake as a coprocess, and the arithmetic. Sets WEFT, FAKE_BIN and work;
# the caller names its keychain service: bench_init NAME.
bench_init() {
  cargo build --release -q -p weft-cli -p weft-testkit --bin weft --bin fake-endpoint
  local target_dir; target_dir=$(realpath "${CARGO_TARGET_DIR:-target}")
  WEFT=$target_dir/release/weft
  FAKE_BIN=$target_dir/release/fake-endpoint
  work=$(mktemp -d)
  export WEFT_HOME="$work/home"
  export WEFT_KEYRING_SERVICE="weft-bench-$1-$$"
  fake_pid=""
  trap 'stop_fake; "$WEFT" connection delete azure-ai >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
}

stop_fake() {
  if [[ -n $fake_pid ]]; then kill "$fake_pid" 2>/dev/null || true; wait "$fake_pid" 2>/dev/null || true; fi
  fake_pid=""
}

# Starts the fake with these flags; sets $base. In the caller's shell, not a subshell: the fake is
# its coprocess.
start_fake() {
  stop_fake
  coproc FAKE { exec "$FAKE_BIN" "$@"; }
  fake_pid=$FAKE_PID
  read -r base <&"${FAKE[0]}"
}

# The `azure-ai` connection examples/chat.weft.yaml names, at the running fake.
connect_fake() {
  echo bench-key | "$WEFT" connection create --name azure-ai --type azure_ai \
    --set "endpoint=$base" --secret api_key >/dev/null
}

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
now_ms() { date +%s%3N; }
