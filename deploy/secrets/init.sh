#!/usr/bin/env bash
# init.sh creates the secret files docker-compose.yml mounts, without overwriting existing ones:
# random values for passwords and keys, and the two AppsFlyer tokens from the environment
# (APPSFLYER_TOKEN, PUSH_TOKEN) or, failing that, from the .example placeholders for you to edit.
# Compose bind-mounts file secrets with their host mode, and mongo, grafana and our services read
# them as non-root users, so the files are 0644 and this directory, which guards them on the host,
# is 0700.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
chmod 700 .
umask 022

random() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | cut -c1-32; }

write() { # name value
	if [[ -e "$1" ]]; then
		echo "keep    deploy/secrets/$1"
		return
	fi
	printf '%s\n' "$2" >"$1"
	echo "created deploy/secrets/$1"
}

for name in mongo_root_password mongo_app_password mongo_grafana_password grafana_admin_password grafana_secret_key mongo_express_password; do
	write "$name" "$(random)"
done
# Alert channels: empty means not configured (deploy/README.md, "Alerts that reach someone").
for name in smtp_password alert_slack_webhook_url alert_webhook_url; do
	if [[ ! -e "$name" ]]; then
		: >"$name"
		echo "created deploy/secrets/$name (empty: not configured)"
	fi
done
write appsflyer_token "${APPSFLYER_TOKEN:-$(cat appsflyer_token.example)}"
write push_token "${PUSH_TOKEN:-$(random)}"

if grep -q '^replace-with' appsflyer_token; then
	echo "edit deploy/secrets/appsflyer_token: paste your AppsFlyer API V2 token" >&2
fi
