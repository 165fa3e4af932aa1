#!/bin/sh
# Entry point of the grafana (and plugin-check) service.
#
#   start.sh check-plugin   exit 1 with a message unless grafana-plugin/dist holds what Grafana loads
#   start.sh                the same check, then assemble the provisioning and exec Grafana's /run.sh
#
# The repository's provisioning/ is mounted read-only at $CAMPAIGNPULSE_PROVISIONING_SRC and copied
# into $GF_PATHS_PROVISIONING (a tmpfs), plus alerting/contact-points.yaml written here: one
# contact point "campaignpulse" with an integration for each channel that is configured, and the
# notification policy routing to it. Grafana refuses to start on a contact point with an empty
# address, so an unconfigured channel is left out (and removed if an earlier start provisioned it);
# with none configured the policy tree is reset to Grafana's default and the rules still evaluate.
#
# Channels (the file names environment variables, which Grafana's provisioning expands, so no
# secret is written to disk; the secret files' contents are exported to Grafana's process only):
#   email    CAMPAIGNPULSE_ALERT_EMAIL (addresses) and GF_SMTP_HOST set
#   Slack    secret file alert_slack_webhook_url not empty (incoming-webhook URL)
#   webhook  secret file alert_webhook_url not empty (any HTTP endpoint: Alertmanager, PagerDuty, ...)
set -eu

PLUGIN_DIR=${CAMPAIGNPULSE_PLUGIN_DIR:-/var/lib/grafana/plugins/campaignpulse-metrics-datasource}
SECRETS=${CAMPAIGNPULSE_SECRETS_DIR:-/run/secrets}
SRC=${CAMPAIGNPULSE_PROVISIONING_SRC:-/etc/campaignpulse/provisioning}
DST=${GF_PATHS_PROVISIONING:-/etc/grafana/provisioning}
ARCH=$(uname -m)
case "$ARCH" in
x86_64) ARCH=amd64 ;;
aarch64 | arm64) ARCH=arm64 ;;
esac

check_plugin() {
	missing=""
	for f in plugin.json module.js "gpx_campaignpulse_linux_$ARCH"; do
		[ -s "$PLUGIN_DIR/$f" ] || missing="$missing $f"
	done
	if [ -n "$missing" ]; then
		echo "campaignpulse: the Grafana plugin is not built: grafana-plugin/dist lacks$missing." >&2
		echo "campaignpulse: run \`make plugin\` in the repository on the host (Go and Node.js), then \`docker compose up -d\` again." >&2
		exit 1
	fi
}

configured() { [ -s "$SECRETS/$1" ]; }

contact_points() {
	email=""
	if [ -n "${CAMPAIGNPULSE_ALERT_EMAIL:-}" ] && [ -n "${GF_SMTP_HOST:-}" ]; then
		email=1
	elif [ -n "${CAMPAIGNPULSE_ALERT_EMAIL:-}" ]; then
		echo "campaignpulse: CAMPAIGNPULSE_ALERT_EMAIL is set but CAMPAIGNPULSE_SMTP_HOST is not: no email contact point" >&2
	fi
	slack=""
	configured alert_slack_webhook_url && slack=1
	webhook=""
	configured alert_webhook_url && webhook=1
	[ -z "$email" ] || echo "campaignpulse: alert contact point: email" >&2
	[ -z "$slack" ] || echo "campaignpulse: alert contact point: Slack" >&2
	[ -z "$webhook" ] || echo "campaignpulse: alert contact point: webhook" >&2

	echo "# Written by deploy/grafana/start.sh at container start; see there."
	echo "apiVersion: 1"
	if [ -z "$email$slack$webhook" ]; then
		echo "# No channel configured: Grafana's default policy; rules evaluate, nothing is sent."
		echo "resetPolicies: [1]"
		echo "deleteContactPoints:"
		for uid in campaignpulse-email campaignpulse-slack campaignpulse-webhook; do
			printf '  - orgId: 1\n    uid: %s\n' "$uid"
		done
		return
	fi
	cat <<'YAML'
contactPoints:
  - orgId: 1
    name: campaignpulse
    receivers:
YAML
	if [ -n "$email" ]; then
		cat <<'YAML'
      - uid: campaignpulse-email
        type: email
        settings:
          addresses: $CAMPAIGNPULSE_ALERT_EMAIL
          singleEmail: true
YAML
	fi
	if [ -n "$slack" ]; then
		cat <<'YAML'
      - uid: campaignpulse-slack
        type: slack
        settings:
          url: $CAMPAIGNPULSE_ALERT_SLACK_URL
YAML
	fi
	if [ -n "$webhook" ]; then
		cat <<'YAML'
      - uid: campaignpulse-webhook
        type: webhook
        settings:
          url: $CAMPAIGNPULSE_ALERT_WEBHOOK_URL
          httpMethod: POST
YAML
	fi
	# An integration configured at an earlier start and not now is removed.
	unused=""
	[ -n "$email" ] || unused="$unused campaignpulse-email"
	[ -n "$slack" ] || unused="$unused campaignpulse-slack"
	[ -n "$webhook" ] || unused="$unused campaignpulse-webhook"
	if [ -n "$unused" ]; then
		echo "deleteContactPoints:"
		for uid in $unused; do
			printf '  - orgId: 1\n    uid: %s\n' "$uid"
		done
	fi
	cat <<'YAML'
# Replaces the org's whole policy tree: everything to campaignpulse, grouped per rule; critical
# alerts repeat hourly, the rest every 4 hours.
policies:
  - orgId: 1
    receiver: campaignpulse
    group_by: [grafana_folder, alertname]
    group_wait: 30s
    group_interval: 5m
    repeat_interval: 4h
    routes:
      - receiver: campaignpulse
        object_matchers:
          - [severity, "=", critical]
        group_wait: 10s
        repeat_interval: 1h
YAML
}

check_plugin
if [ "${1:-}" = check-plugin ]; then
	echo "campaignpulse: plugin present ($PLUGIN_DIR)"
	exit 0
fi

mkdir -p "$DST"
rm -rf "${DST:?}"/*
cp -R "$SRC"/. "$DST"/
mkdir -p "$DST/alerting"
contact_points >"$DST/alerting/contact-points.yaml"
if [ -n "${GF_SMTP_HOST:-}" ]; then
	export GF_SMTP_ENABLED=true
fi
if configured alert_slack_webhook_url; then
	CAMPAIGNPULSE_ALERT_SLACK_URL=$(cat "$SECRETS/alert_slack_webhook_url")
	export CAMPAIGNPULSE_ALERT_SLACK_URL
fi
if configured alert_webhook_url; then
	CAMPAIGNPULSE_ALERT_WEBHOOK_URL=$(cat "$SECRETS/alert_webhook_url")
	export CAMPAIGNPULSE_ALERT_WEBHOOK_URL
fi
# CAMPAIGNPULSE_EXEC: what runs next (Grafana's own entry point; tests print the environment).
exec ${CAMPAIGNPULSE_EXEC:-/run.sh} "$@"
