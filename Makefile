# Weft's developer entry points. `make run` and `make test` are the README's two commands.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
export PATH := $(HOME)/.cargo/bin:$(PATH)

# The shipped app embeds ui/dist (Tauri's `custom-protocol`); every build here does, so that a
# test never loads the Vite dev server by mistake and Tauri is compiled once, not twice.
APP_FEATURES := --features weft-desktop/custom-protocol
APP_BIN := target/debug/weft-desktop
LOGDIR ?= $(CURDIR)/target/logs
export LOGDIR
# A D-Bus session with an unlocked, throwaway gnome-keyring and an Xvfb display.
SESSION := dbus-run-session -- bash .ci/with-session.sh

.PHONY: help run deps test-deps ui app lint test test-rust test-ui test-browser test-e2e bindings screenshot

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

run: deps app ## install what is missing, build, and start Weft
	$(APP_BIN)

deps:
	scripts/install-deps.sh run

test-deps:
	scripts/install-deps.sh test

ui: ## build the web UI into ui/dist
	cd ui && npm run build

app: ui ## build the desktop app with the UI embedded
	cargo build -p weft-desktop -p weft-cli $(APP_FEATURES)

lint: ui ## rustfmt, clippy, tsc, eslint; the library crates must not depend on Tauri or WebKit
	cargo fmt --all -- --check
	! cargo tree -e normal -p weft-store -p weft-ai -p weft-flow -p weft-core -p weft-cli | grep -E '^.* (tauri|wry|webkit2gtk)[ -]' \
	  || { echo "a library crate depends on Tauri/WebKit" >&2; exit 1; }
	cargo clippy --workspace --all-targets $(APP_FEATURES) --locked -- -D warnings
	cd ui && npm run typecheck && npm run lint

test: test-deps lint test-rust test-ui test-browser test-e2e ## run every test (what CI runs)
	@echo "::: all tests passed"

test-rust: ui ## cargo tests, against the real Secret Service; fails if IPC bindings are stale
	mkdir -p $(LOGDIR)
	$(SESSION) cargo test --workspace $(APP_FEATURES) --locked
	git diff --exit-code -- ui/src/ipc/generated || { echo "IPC bindings are stale: commit the files cargo test regenerated" >&2; exit 1; }
	test -z "$$(git ls-files --others --exclude-standard ui/src/ipc/generated)" || { echo "new IPC bindings are not committed" >&2; exit 1; }

test-ui: ## Vitest unit tests of the UI
	cd ui && npm test

test-browser: ## the built UI in Chromium, Tauri IPC mocked
	cd ui && npm run build:e2e && npm run test:browser

test-e2e: app ## the real app under tauri-driver, real keychain and SQLite
	mkdir -p $(LOGDIR)
	$(SESSION) env APP_BIN=$(CURDIR)/$(APP_BIN) tests/e2e/run.sh

screenshot: test-e2e ## refresh the README screenshots from the E2E run (a test run, the connection form)
	cp target/e2e/test-run.png docs/screenshot.png
	cp target/e2e/connections.png docs/connections.png

bindings: ## regenerate the TypeScript IPC types from the Rust types
	cargo test -p weft-core --lib export_bindings
