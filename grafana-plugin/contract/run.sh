#!/usr/bin/env bash
# Runs the plugin contract tests (real binary over go-plugin, FerretDB,
# kfake) from the repository root. The last line is always
# "contract: <n> passed, <n> failed"; the exit status is non-zero on any
# failure, including a build or setup failure (counted as one failed).
set -u
GO=${GO:-go}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$GO" test -count=1 -v -timeout 5m ./grafana-plugin/contract/ 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
passed=$(grep -c '^--- PASS' "$out")
failed=$(grep -c '^--- FAIL' "$out")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1
fi
echo "contract: $passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
