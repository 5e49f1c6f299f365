#!/usr/bin/env bash
# Runs the real-app E2E tests: tauri-driver (which starts WebKitWebDriver) drives the built app.
# Needs a display and an unlocked keychain: run it under `dbus-run-session -- bash .ci/with-session.sh`.
set -euo pipefail
cd "$(dirname "$0")"
: "${APP_BIN:?set APP_BIN to the built weft-desktop binary}"
: "${WEFT_BIN:=$(dirname "$APP_BIN")/weft}"
: "${LOGDIR:=$(mktemp -d)}"
export APP_BIN WEFT_BIN E2E_SCREENSHOT_DIR="${E2E_SCREENSHOT_DIR:-$PWD/../../target/e2e}"
# tauri-driver starts the app with its own environment: a fresh data folder and keychain service.
export WEFT_HOME; WEFT_HOME="$(mktemp -d)"
export WEFT_KEYRING_SERVICE="weft-e2e-$$"
port=4444
tauri-driver --port "$port" --native-port 4445 >"$LOGDIR/tauri-driver.log" 2>&1 &
driver_pid=$!
trap 'kill "$driver_pid" 2>/dev/null || true; rm -rf "$WEFT_HOME"' EXIT
for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
TAURI_DRIVER_PORT=$port npm test
