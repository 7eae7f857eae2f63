#!/bin/bash
# The Grafana dashboard in contrib/grafana reads the metrics a running
# daemon really exports: a daemon of the test's own (veth in a namespace
# made here, its own pin dir and state dir) gets a few AUTH failures, its
# /metrics passes promtool, and every metric, label and label value the
# dashboard's queries name is in that scrape (tests/lib/dashcheck.py).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
ensure_bpffs

DASH=contrib/grafana/dashboards/mxguard.json
NS=${TID}g
PIN=/sys/fs/bpf/$TID
DIR=$(mktemp -d)
on_exit "rm -rf $DIR"
MAIL=$DIR/mail.log
LOG=$DIR/daemon.log
SCRAPE=$DIR/metrics.txt
PORT=9587 # inside the test's own namespace: no clash with anything
: >"$MAIL"
: >"$LOG"

# --- the files themselves ---------------------------------------------------
out=$(python3 - "$DASH" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
if d.get("id") is not None:
    bad.append("a numeric id (provisioning gives one)")
if not d.get("uid"):
    bad.append("no uid")
v = [t for t in d["templating"]["list"] if t.get("type") == "datasource"]
if not v or v[0].get("query") != "prometheus":
    bad.append("no Prometheus datasource variable")
name = "${%s}" % v[0]["name"] if v else None
def walk(n, where):
    if isinstance(n, dict):
        ds = n.get("datasource")
        if ds is not None and ds != {"type": "prometheus", "uid": name}:
            bad.append(f"{where}: datasource {ds}")
        for k, x in n.items():
            walk(x, n.get("title", where))
    elif isinstance(n, list):
        for x in n:
            walk(x, where)
walk(d["panels"], "panels")
walk([t for t in d["templating"]["list"] if t.get("type") != "datasource"], "variables")
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
)
[ $? = 0 ] && pass dashboard_is_provisioning_json_with_a_prometheus_datasource_variable ||
	fail dashboard_is_provisioning_json_with_a_prometheus_datasource_variable "$out"

# What issue 13 asks the dashboard to show, each by the query that shows it.
exprs=$(python3 -c '
import json, sys
def walk(n):
    if isinstance(n, dict):
        if isinstance(n.get("expr"), str): print(n["expr"])
        for x in n.values(): walk(x)
    elif isinstance(n, list):
        for x in n: walk(x)
walk(json.load(open(sys.argv[1])))' "$DASH" 2>/dev/null)
missing=
for want in 'rate(mxguard_xdp_denied_total' 'rate(mxguard_xdp_rate_limited_total' \
	'sum by (reason) (increase(mxguard_bans_total' 'mxguard_map_entries{map=~"deny_v4|deny_v6"' \
	'mxguard_map_entries{instance=~"$instance"} / mxguard_map_max_entries' \
	'rate(mxguard_log_lines_total' 'sum by (service) (rate(mxguard_log_failures_total' \
	'histogram_quantile(0.99, sum by (le) (rate(mxguard_ban_latency_seconds_bucket'; do
	grep -qF -- "$want" <<<"$exprs" || missing="$missing [$want]"
done
[ -n "$exprs" ] && [ -z "$missing" ] &&
	pass dashboard_shows_drops_bans_map_fill_log_failures_and_ban_latency ||
	fail dashboard_shows_drops_bans_map_fill_log_failures_and_ban_latency "missing:$missing"

# make install puts the dashboard where the provisioning file points Grafana.
ROOT=$DIR/root
if make --no-print-directory -s install DESTDIR="$ROOT" PREFIX=/usr BUILD="${BUILD:-build}" >"$DIR/install.out" 2>&1; then
	p=$(sed -nE 's/^ *path: *//p' "$ROOT/usr/share/mxguard/grafana/provisioning/mxguard.yaml" 2>/dev/null)
	if [ "$p" = /usr/share/mxguard/grafana/dashboards ] &&
		cmp -s "$DASH" "$ROOT$p/mxguard.json"; then
		pass install_puts_the_dashboard_where_its_provisioning_file_points
	else
		fail install_puts_the_dashboard_where_its_provisioning_file_points "path \"$p\": $(ls -R "$ROOT/usr/share/mxguard" 2>&1 | tr '\n' ' ')"
	fi
else
	fail install_puts_the_dashboard_where_its_provisioning_file_points "$(tail -3 "$DIR/install.out")"
fi

# --- a live daemon's scrape ---------------------------------------------------
netns "$NS"
ip link add dg0 netns "$NS" type veth peer name dg1 netns "$NS"
ip -n "$NS" link set dg0 up
ip -n "$NS" link set dg1 up

nsenter --net="/run/netns/$NS" "$MXG" run -i dg0 --pin-dir "$PIN" --state-dir "$DIR/state" \
	--log "$MAIL" -o maxretry=2 -o "metrics=127.0.0.1:$PORT" >>"$LOG" 2>&1 &
daemon_pid=$!
on_exit "kill -9 $daemon_pid; $MXG detach --pin-dir $PIN; rm -rf $PIN"
started() { grep -q "running:" "$LOG"; }
wait_for 10 started || fail daemon_starts "$(tail -5 "$LOG")"

# Three failures from one address: a log ban, so the counters by service
# and by reason and the latency histogram all have a sample.
for i in 1 2 3; do
	echo "$(date '+%b %e %T') mx postfix/submission/smtpd[$((1000 + i))]: warning: unknown[198.18.7.9]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice" >>"$MAIL"
done
scrape() { nsenter --net="/run/netns/$NS" curl -s --max-time 2 "http://127.0.0.1:$PORT/metrics" >"$SCRAPE"; }
banned() { scrape && grep -q '^mxguard_ban_latency_seconds_count [1-9]' "$SCRAPE"; }
if wait_for 10 banned && grep -q '^mxguard_log_failures_total{service="postfix"} 3$' "$SCRAPE"; then
	pass live_daemon_scrape_has_failures_bans_and_latency_samples
else
	fail live_daemon_scrape_has_failures_bans_and_latency_samples "$(grep -E 'failures_total\{service="postfix"|latency_seconds_count' "$SCRAPE"; tail -3 "$LOG")"
fi

if command -v promtool >/dev/null; then
	out=$(promtool check metrics <"$SCRAPE" 2>&1)
	[ $? = 0 ] && [ -s "$SCRAPE" ] && pass scrape_passes_promtool_check_metrics ||
		fail scrape_passes_promtool_check_metrics "$out"
else
	skip scrape_passes_promtool_check_metrics "promtool not installed (Debian: prometheus; scripts/deps.sh --test)"
fi

# Prometheus's own parser reads every panel query: as recording rules, with
# Grafana's variables given values (JSON is YAML, so no YAML module needed).
if command -v promtool >/dev/null; then
	python3 - "$DASH" >"$DIR/rules.yml" <<'PY'
import json, sys
exprs = []
def walk(n):
    if isinstance(n, dict):
        if isinstance(n.get("expr"), str):
            exprs.append(n["expr"])
        for x in n.values():
            walk(x)
    elif isinstance(n, list):
        for x in n:
            walk(x)
walk(json.load(open(sys.argv[1]))["panels"])
rules = [{"record": f"dashboard:query{i}",
          "expr": e.replace("$__rate_interval", "5m").replace("$instance", ".*")}
         for i, e in enumerate(exprs)]
print(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
PY
	out=$(promtool check rules "$DIR/rules.yml" 2>&1)
	[ $? = 0 ] && grep -qE 'SUCCESS: [1-9][0-9]+ rules found' <<<"$out" &&
		pass every_panel_query_parses_as_promql || fail every_panel_query_parses_as_promql "$out"
else
	skip every_panel_query_parses_as_promql "promtool not installed (Debian: prometheus; scripts/deps.sh --test)"
fi

out=$(python3 tests/lib/dashcheck.py "$DASH" "$SCRAPE" 2>&1)
rc=$?
n=$(sed -nE 's/^checked ([0-9]+) queries$/\1/p' <<<"$out")
[ $rc = 0 ] && [ "${n:-0}" -ge 20 ] &&
	pass every_metric_and_label_in_the_dashboard_is_in_the_scrape ||
	fail every_metric_and_label_in_the_dashboard_is_in_the_scrape "$out"

# The check must be able to fail: the same dashboard with one name wrong.
# expect_rejected NAME SED PATTERN: dashcheck refuses the edited dashboard
# and names what is wrong.
expect_rejected() {
	sed "$2" "$DASH" >"$DIR/bad.json"
	if cmp -s "$DASH" "$DIR/bad.json"; then
		fail "$1" "the edit $2 changed nothing"
		return
	fi
	out=$(python3 tests/lib/dashcheck.py "$DIR/bad.json" "$SCRAPE" 2>&1)
	[ $? = 1 ] && grep -q -- "$3" <<<"$out" && pass "$1" || fail "$1" "$out"
}
expect_rejected check_rejects_a_metric_the_daemon_lacks \
	's/mxguard_xdp_denied_total/mxguard_xdp_deny_total/' 'metric mxguard_xdp_deny_total is not in the scrape'
expect_rejected check_rejects_a_histogram_by_its_base_name \
	's/mxguard_ban_latency_seconds_bucket/mxguard_ban_latency_seconds/g' 'metric mxguard_ban_latency_seconds is not'
expect_rejected check_rejects_a_grouping_label_the_daemon_lacks \
	's/sum by (reason)/sum by (verdict)/' 'label verdict is on none of'
expect_rejected check_rejects_a_label_value_the_daemon_lacks \
	's/deny_v4|deny_v6/deny_v4|denylist/' 'map="denylist"} is not in the scrape'
expect_rejected check_rejects_a_legend_label_the_daemon_lacks \
	's/{{service}}/{{svc}}/' 'label svc is on none of'
expect_rejected check_rejects_an_unknown_function \
	's/histogram_quantile(0.5,/histogram_quantiles(0.5,/' 'unknown function histogram_quantiles'

summary
