#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for a bounded time: SECONDS each (default 20),
# starting from seeds made from the test fixtures (real platform payloads, captured agent output,
# the example config). Any crash fails the run; its input is kept under fuzz/artifacts/TARGET/
# (reproduce with `cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-…`), and becomes a test.
#
# Stable Rust: cargo-fuzz with `--sanitizer none` needs no nightly flags (the code under test is
# safe Rust, so what is looked for is panics, overflows — debug assertions are on — and
# unbounded memory or time, which libFuzzer's -rss_limit_mb and -timeout catch).
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
seconds=${1:-20}

command -v cargo-fuzz > /dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
# The fuzz builds share the project's target directory (their own triple subfolder), so a
# cache kept for the tests keeps them too.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

seeds=$(mktemp -d)
corpus=$(mktemp -d)
trap 'rm -rf "$seeds" "$corpus"' EXIT
seed() { # seed TARGET FILE [PREFIX]: FILE's bytes after PREFIX as one seed of TARGET
  mkdir -p "$seeds/$1"
  { printf '%b' "${3:-}"; cat "$2"; } > "$seeds/$1/$(basename "$2")"
}
for f in tests/fixtures/agent-cli/claude/*; do seed agent_stream "$f" '\x07'; done
for f in README.md docs/design.md bots/*/README.md; do seed markdown "$f" '\x40'; done
seed config config.example.toml
for f in tests/fixtures/github/webhooks/*.json; do seed github_webhook "$f" 'deadbeef\n'; done
for f in tests/fixtures/slack/events_api/*.json tests/fixtures/slack/socket_mode/*.json \
         tests/fixtures/slack/slash_commands/*; do seed slack_event "$f"; done
for f in tests/fixtures/discord/gateway_*.json tests/fixtures/discord/object_*.json; do
  seed discord_gateway "$f"
done
for f in tests/fixtures/telegram/*.json; do seed telegram_update "$f"; done
# A cron expression or a hook's template on the first line, a JSON body after it.
for f in tests/fixtures/github/webhooks/*.json; do
  seed triggers "$f" 'CI {{action}} on {{repository.full_name}} {{sender.login}}\n'
done
seed triggers config.example.toml '*/15 9-17 1,15 * 1-5\n'

targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^switchboard-fuzz$')
for target in $targets; do
  mkdir -p "$corpus/$target" "$seeds/$target"
  echo "fuzzing $target for ${seconds}s"
  log="$corpus/$target.log"
  # Rendering is the slowest target by far: small inputs keep its runs many.
  max_len=262144
  [ "$target" = markdown ] && max_len=8192
  if ! cargo fuzz run "$target" --sanitizer none --debug-assertions \
    "$corpus/$target" "$seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
    -print_final_stats=1 > "$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz target $target failed; its input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units' "$log" || { tail -n 20 "$log" >&2; exit 1; }
done
