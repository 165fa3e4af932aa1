package provisioning_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/plugin"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

func TestPluginJSON(t *testing.T) {
	var p struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Backend    bool   `json:"backend"`
		Alerting   bool   `json:"alerting"`
		Streaming  bool   `json:"streaming"`
		Executable string `json:"executable"`
	}
	readJSON(t, pluginJSON, &p)
	if !regexp.MustCompile(`^[0-9a-z]+\-([0-9a-z]+\-)?(app|panel|datasource)$`).MatchString(p.ID) {
		t.Errorf("plugin.json id %q does not match Grafana's <org>-<name>-datasource pattern", p.ID)
	}
	if p.ID != plugin.PluginID {
		t.Errorf("plugin.json id %q, backend PluginID %q", p.ID, plugin.PluginID)
	}
	if p.Type != "datasource" || !p.Backend || !p.Alerting || !p.Streaming {
		t.Errorf("plugin.json: type %q backend %v alerting %v streaming %v; want a backend datasource with alerting and streaming", p.Type, p.Backend, p.Alerting, p.Streaming)
	}
	// Grafana runs <plugin dir>/<executable>_<goos>_<goarch>.
	mk, err := os.ReadFile(makefile)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^PLUGIN_BIN\s*:?=\s*(\S+)`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile has no PLUGIN_BIN")
	}
	if got, want := filepath.Base(string(m[1])), p.Executable+"_linux_$(PLUGIN_ARCH)"; got != want {
		t.Errorf("Makefile builds %s, Grafana looks for %s (plugin.json executable %q)", got, want, p.Executable)
	}
}

func TestDatasourceProvisioning(t *testing.T) {
	w := load(t)
	if len(w.datasources) == 0 {
		t.Fatal("no datasource provisioned")
	}
	secureKeys := []string{plugin.SecureMongoURI, plugin.SecureMongoPassword, plugin.SecureKafkaSASLPassword}
	for _, f := range w.dsFiles {
		if f.APIVersion != 1 {
			t.Errorf("datasources apiVersion %d, want 1", f.APIVersion)
		}
		for _, ds := range f.Datasources {
			if !uidPattern.MatchString(ds.UID) {
				t.Errorf("datasource %q: uid %q is not 1-40 chars of [a-zA-Z0-9_-]", ds.Name, ds.UID)
			}
			if ds.Type == "prometheus" {
				// deploy/prometheus/prometheus.yml's server, as compose names it.
				if ds.UID != promUID || ds.URL != "http://prometheus:9090" || ds.Access != "proxy" {
					t.Errorf("prometheus datasource: uid %q url %q access %q, want %q, http://prometheus:9090, proxy", ds.UID, ds.URL, ds.Access, promUID)
				}
				continue
			}
			if ds.Type != plugin.PluginID {
				t.Errorf("datasource %q: type %q, want %q or prometheus", ds.Name, ds.Type, plugin.PluginID)
			}
			// One time-zone setting for the aggregator, the datasource and the dashboards.
			if tz := ds.JSONData["timeZone"]; tz != "$CAMPAIGNPULSE_TIMEZONE" {
				t.Errorf("datasource %q: jsonData.timeZone %v, want $CAMPAIGNPULSE_TIMEZONE (the setting compose also gives the aggregator)", ds.Name, tz)
			}
			// The backend rejects unknown jsonData keys: decode as it does.
			js, _ := json.Marshal(expandedJSONData(ds.JSONData))
			dec := json.NewDecoder(bytes.NewReader(js))
			dec.DisallowUnknownFields()
			var s plugin.Settings
			if err := dec.Decode(&s); err != nil {
				t.Errorf("datasource %q: jsonData does not decode into the backend's Settings: %v", ds.Name, err)
			}
			secure := map[string]string{}
			for k, v := range ds.SecureJSONData {
				if !slices.Contains(secureKeys, k) {
					t.Errorf("datasource %q: secureJsonData key %q is not read by the backend (%v)", ds.Name, k, secureKeys)
				}
				if k != plugin.SecureMongoURI && !strings.HasPrefix(v, "$") {
					t.Errorf("datasource %q: secureJsonData.%s is a literal; read it from a secret file or env ($__file{...})", ds.Name, k)
				}
				secure[k] = "provisioned-" + k
			}
			if uri := ds.SecureJSONData[plugin.SecureMongoURI]; regexp.MustCompile(`://[^/@]*:[^/@]*@`).MatchString(uri) {
				t.Errorf("datasource %q: mongoUri carries a password; use mongoUsername + secureJsonData.mongoPassword", ds.Name)
			} else if uri != "" && !strings.HasPrefix(uri, "$") {
				secure[plugin.SecureMongoURI] = uri
			}
			// The settings must load in the backend (it validates, connects lazily).
			inst := plugin.InstanceSettings(s, secure)
			inst.UID = ds.UID
			d, err := plugin.NewDatasource(t.Context(), inst)
			if err != nil {
				t.Errorf("datasource %q: backend rejects the provisioned settings: %v", ds.Name, err)
				continue
			}
			d.Dispose()
		}
	}
}

func TestDashboardProvider(t *testing.T) {
	w := load(t)
	for _, f := range w.providers {
		if f.APIVersion != 1 || len(f.Providers) == 0 {
			t.Fatalf("dashboard provider file: apiVersion %d, %d providers", f.APIVersion, len(f.Providers))
		}
		for _, p := range f.Providers {
			// docker-compose.yml mounts ./dashboards there.
			if p.Type != "file" || p.Options.Path != "/var/lib/grafana/dashboards" {
				t.Errorf("provider %q: type %q path %q, want file provider on /var/lib/grafana/dashboards", p.Name, p.Type, p.Options.Path)
			}
			if p.FolderUID != "" && !uidPattern.MatchString(p.FolderUID) {
				t.Errorf("provider %q: folderUid %q is not a valid uid", p.Name, p.FolderUID)
			}
			// Alert rules name their folder by title: the same title keeps
			// rules and dashboards together, and a folderUid here would make
			// the dashboard provisioner try to create a second folder with
			// that title when alerting created it first.
			for _, af := range w.alerts {
				for _, g := range af.Groups {
					if g.Folder != p.Folder || p.FolderUID != "" {
						t.Errorf("provider %q folder %q (uid %q), rule group %q folder %q: want the same title and no folderUid", p.Name, p.Folder, p.FolderUID, g.Name, g.Folder)
					}
				}
			}
		}
	}
}

// ourDS reports whether ref points at a provisioned datasource of our type.
func (w *world) ourDS(ref *dsRef) bool {
	return ref != nil && w.datasources[ref.UID] == plugin.PluginID && (ref.Type == "" || ref.Type == plugin.PluginID)
}

var varRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

func TestDashboards(t *testing.T) {
	w := load(t)
	series := documentedSeries(t)
	uids, titles := map[string]string{}, map[string]string{}
	for _, d := range w.dashboards {
		t.Run(d.file, func(t *testing.T) {
			if !uidPattern.MatchString(d.UID) {
				t.Errorf("uid %q is not 1-40 chars of [a-zA-Z0-9_-]", d.UID)
			}
			if other, dup := uids[d.UID]; dup {
				t.Errorf("uid %q also used by %s", d.UID, other)
			}
			if other, dup := titles[d.Title]; dup {
				t.Errorf("title %q also used by %s", d.Title, other)
			}
			uids[d.UID], titles[d.Title] = d.file, d.file
			if d.SchemaVersion < 39 {
				t.Errorf("schemaVersion %d, want a current classic model (>= 39)", d.SchemaVersion)
			}
			if r, err := time.ParseDuration(d.Refresh); err != nil || r > 30*time.Second || r < 5*time.Second {
				t.Errorf("refresh %q, want 5s..30s (Grafana's floor is 5s)", d.Refresh)
			}
			// Campaign dashboards are looked at all day on shared screens: 30 s is fresh
			// enough for windows flushed every second and keeps the query load down.
			if d.UID == "campaignpulse-campaigns-live" || d.UID == "campaignpulse-app-overview" {
				if d.Refresh != "30s" {
					t.Errorf("refresh %q, want 30s for a campaign dashboard", d.Refresh)
				}
			}
			// "now/d" panels must mean the same day as the backend's day windows: the
			// dashboards follow Grafana's default zone, which compose sets from the same
			// CAMPAIGNPULSE_TIMEZONE as the aggregator and the datasource (deploy tests).
			if d.Timezone != "" {
				t.Errorf("timezone %q, want \"\" (Grafana's default zone, set from CAMPAIGNPULSE_TIMEZONE)", d.Timezone)
			}
			if !strings.HasPrefix(d.Time.From, "now") || d.Time.To != "now" {
				t.Errorf("time %q..%q, want a relative range ending now", d.Time.From, d.Time.To)
			}

			vars := map[string]bool{}
			for _, v := range d.Templating.List {
				checkVariable(t, w, v, vars)
				vars[v.Name] = true
			}
			ids := map[int]bool{}
			for _, p := range d.allPanels() {
				if ids[p.ID] {
					t.Errorf("panel id %d used twice", p.ID)
				}
				ids[p.ID] = true
				if p.Type == "row" {
					continue
				}
				if p.Datasource != nil && p.Datasource.UID == promUID {
					checkPromPanel(t, w, p, series)
					continue
				}
				if !w.ourDS(p.Datasource) {
					t.Errorf("panel %q: datasource %+v is not the provisioned campaignpulse datasource", p.Title, p.Datasource)
				}
				if len(p.Targets) == 0 {
					t.Errorf("panel %q has no queries", p.Title)
				}
				refs := map[string]bool{}
				for _, raw := range p.Targets {
					tq := checkTarget(t, w, p.Title, raw, vars)
					checkPanelFits(t, p, tq.query)
					if refs[tq.refID] {
						t.Errorf("panel %q: refId %q twice", p.Title, tq.refID)
					}
					refs[tq.refID] = true
				}
			}
		})
	}
}

// checkPromPanel checks a panel on the provisioned Prometheus datasource:
// every target has a PromQL expression and names only series that
// docs/metrics.md documents (which docs/metrics_test.go keeps exported).
func checkPromPanel(t *testing.T, w *world, p panel, series map[string]bool) {
	t.Helper()
	if w.datasources[promUID] != "prometheus" {
		t.Errorf("panel %q uses datasource %q, which is not provisioned as a prometheus datasource", p.Title, promUID)
	}
	for _, raw := range p.Targets {
		var tgt struct {
			RefID      string `json:"refId"`
			Expr       string `json:"expr"`
			Datasource *dsRef `json:"datasource"`
		}
		if err := json.Unmarshal(raw, &tgt); err != nil || tgt.Expr == "" || tgt.RefID == "" {
			t.Errorf("panel %q: target without refId or expr: %s", p.Title, raw)
			continue
		}
		if tgt.Datasource != nil && tgt.Datasource.UID != promUID {
			t.Errorf("panel %q target %s: datasource %q, the panel's is %q", p.Title, tgt.RefID, tgt.Datasource.UID, promUID)
		}
		names := promSeries.FindAllString(tgt.Expr, -1)
		if len(names) == 0 {
			t.Errorf("panel %q target %s reads no campaignpulse series: %s", p.Title, tgt.RefID, tgt.Expr)
		}
		for _, n := range names {
			if !series[strings.TrimSuffix(n, "_bucket")] {
				t.Errorf("panel %q target %s: %s is not in docs/metrics.md", p.Title, tgt.RefID, n)
			}
		}
	}
}

var promSeries = regexp.MustCompile(`campaignpulse_[a-z0-9_]+`)

// documentedSeries are the series names of docs/metrics.md's tables.
func documentedSeries(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(campaignpulse_[a-z0-9_]+)` \\|").FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = true
	}
	if len(out) == 0 {
		t.Fatal("docs/metrics.md lists no series")
	}
	return out
}

// checkPanelFits: a time-series panel needs time series, which only
// metrics queries in a time-series format return; the other panels take
// the numeric tables too.
func checkPanelFits(t *testing.T, p panel, q metricdoc.Query) {
	t.Helper()
	series := q.QueryType == metricdoc.QueryMetrics && q.Format != metricdoc.FormatTable
	if p.Type == "timeseries" && !series {
		t.Errorf("panel %q is a time series but its %s/%s query returns a table", p.Title, q.QueryType, q.Format)
	}
	if !slices.Contains([]string{"timeseries", "stat", "bargauge", "table", "gauge", "barchart"}, p.Type) {
		t.Errorf("panel %q: type %q is not one these dashboards are checked for", p.Title, p.Type)
	}
}

func checkVariable(t *testing.T, w *world, v variable, defined map[string]bool) {
	t.Helper()
	if v.Type != "query" || !w.ourDS(v.Datasource) {
		t.Errorf("variable %s: type %q datasource %+v, want a query variable on our datasource", v.Name, v.Type, v.Datasource)
		return
	}
	if !v.Multi || !v.IncludeAll || v.AllValue != request.AllValue {
		t.Errorf("variable %s: multi %v includeAll %v allValue %q, want multi-value with All = %q (the backend drops that filter)", v.Name, v.Multi, v.IncludeAll, v.AllValue, request.AllValue)
	}
	if v.Refresh != 1 && v.Refresh != 2 {
		t.Errorf("variable %s: refresh %d, want 1 (on load) or 2 (on time range change)", v.Name, v.Refresh)
	}
	var raw map[string]any
	if err := json.Unmarshal(v.Query, &raw); err != nil {
		t.Errorf("variable %s: query is not an object: %v", v.Name, err)
		return
	}
	q := decodeModel(t, "variable "+v.Name, raw)
	if q.QueryType != metricdoc.QueryVariables || q.Dimension != v.Name {
		t.Errorf("variable %s: queryType %q dimension %q, want variables of %s", v.Name, q.QueryType, q.Dimension, v.Name)
	}
	for _, m := range varRef.FindAllStringSubmatch(string(v.Query), -1) {
		if !defined[m[1]] {
			t.Errorf("variable %s refers to $%s, which is not defined before it", v.Name, m[1])
		}
	}
	parse(t, "variable "+v.Name, raw, "")
}

type checkedTarget struct {
	refID string
	query metricdoc.Query
	raw   map[string]any
}

func checkTarget(t *testing.T, w *world, where string, js json.RawMessage, vars map[string]bool) checkedTarget {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal(js, &raw); err != nil {
		t.Fatalf("%s: target: %v", where, err)
	}
	ref, _ := raw["refId"].(string)
	where = fmt.Sprintf("panel %q target %s", where, ref)
	if ref == "" {
		t.Errorf("%s: no refId", where)
	}
	if _, ds := targetModel(raw); !w.ourDS(ds) {
		t.Errorf("%s: datasource %+v is not the provisioned campaignpulse datasource", where, ds)
	}
	q := decodeModel(t, where, raw)
	for _, m := range varRef.FindAllStringSubmatch(string(js), -1) {
		if !vars[m[1]] && !strings.HasPrefix(m[1], "__") {
			t.Errorf("%s refers to $%s, which the dashboard does not define", where, m[1])
		}
	}
	parse(t, where, raw, "")
	return checkedTarget{refID: ref, query: q, raw: raw}
}

// decodeModel decodes a query model strictly into the shared contract,
// after removing the keys Grafana adds and the frontend's live flag.
func decodeModel(t *testing.T, where string, raw map[string]any) metricdoc.Query {
	t.Helper()
	model, _ := targetModel(raw)
	live, hasLive := model["live"]
	delete(model, "live")
	js, _ := json.Marshal(model)
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var q metricdoc.Query
	if err := dec.Decode(&q); err != nil {
		t.Errorf("%s: query does not decode into metricdoc.Query: %v", where, err)
	}
	if !slices.Contains(metricdoc.QueryTypes, q.QueryType) {
		t.Errorf("%s: queryType %q is not one of %v", where, q.QueryType, metricdoc.QueryTypes)
	}
	if hasLive && (live != true || q.QueryType != metricdoc.QueryMetrics) {
		t.Errorf("%s: live=%v on a %s query; only metrics queries stream", where, live, q.QueryType)
	}
	return q
}

// asSent is a target as the frontend sends it with every variable on
// "All": each filter value that is a variable becomes "$__all".
func asSent(raw map[string]any) map[string]any { return asSentWith(raw, nil) }

// asSentWith is a target as the frontend sends it with the given variables
// set to one value and every other variable on "All".
func asSentWith(raw map[string]any, values map[string]string) map[string]any {
	js, _ := json.Marshal(raw)
	js = varRef.ReplaceAllFunc(js, func(m []byte) []byte {
		if bytes.HasPrefix(m, []byte("$__")) || bytes.HasPrefix(m, []byte("${__")) {
			return m
		}
		if v, ok := values[string(varRef.FindSubmatch(m)[1])]; ok {
			return []byte(v)
		}
		return []byte(request.AllValue)
	})
	var out map[string]any
	_ = json.Unmarshal(js, &out)
	return out
}

// parse runs the backend's own validation on the query as it arrives.
func parse(t *testing.T, where string, raw map[string]any, queryType string) request.Query {
	t.Helper()
	js, _ := json.Marshal(asSent(raw))
	now := time.Now()
	q, err := request.Parse(backend.DataQuery{RefID: "A", QueryType: queryType, JSON: js,
		TimeRange: backend.TimeRange{From: now.Add(-24 * time.Hour), To: now}, Interval: time.Minute, MaxDataPoints: 1000},
		request.Defaults{ConsumerGroup: plugin.DefaultConsumerGroup})
	if err != nil {
		t.Errorf("%s: the backend rejects the query: %v", where, err)
	}
	return q
}

func TestAlertRules(t *testing.T) {
	w := load(t)
	panels := map[string]map[int]bool{}
	for _, d := range w.dashboards {
		panels[d.UID] = map[int]bool{}
		for _, p := range d.allPanels() {
			panels[d.UID][p.ID] = true
		}
	}
	seen := map[string]bool{}
	var receivers []string
	for _, f := range w.alerts {
		for _, cp := range f.ContactPoints {
			receivers = append(receivers, cp.Name)
			for _, r := range cp.Receivers {
				if !uidPattern.MatchString(r.UID) || r.Type == "" || len(r.Settings) == 0 {
					t.Errorf("contact point %q: receiver uid %q type %q needs a valid uid, a type and settings", cp.Name, r.UID, r.Type)
				}
			}
		}
	}
	nRules := 0
	for _, f := range w.alerts {
		if f.APIVersion != 1 {
			t.Errorf("alerting apiVersion %d, want 1", f.APIVersion)
		}
		var walk func(policy)
		walk = func(p policy) {
			if p.Receiver != "" && !slices.Contains(receivers, p.Receiver) {
				t.Errorf("notification policy routes to %q, which is no provisioned contact point", p.Receiver)
			}
			for _, r := range p.Routes {
				walk(r)
			}
		}
		for _, p := range f.Policies {
			walk(p)
		}
		for _, g := range f.Groups {
			if g.Folder == "" || g.Name == "" {
				t.Errorf("rule group %q: folder and name are required", g.Name)
			}
			if _, err := time.ParseDuration(g.Interval); err != nil {
				t.Errorf("rule group %q: interval %q: %v", g.Name, g.Interval, err)
			}
			for _, r := range g.Rules {
				nRules++
				t.Run(r.UID, func(t *testing.T) {
					if !uidPattern.MatchString(r.UID) || seen[r.UID] {
						t.Errorf("uid %q is invalid or used twice", r.UID)
					}
					seen[r.UID] = true
					checkRule(t, w, r, panels)
				})
			}
		}
	}
	if nRules == 0 {
		t.Fatal("no alert rules provisioned")
	}
}

func checkRule(t *testing.T, w *world, r alertRule, panels map[string]map[int]bool) {
	t.Helper()
	if r.Title == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
		t.Errorf("title %q, severity %q, summary %q: all are required", r.Title, r.Labels["severity"], r.Annotations["summary"])
	}
	if _, err := time.ParseDuration(r.For); err != nil {
		t.Errorf("for %q: %v", r.For, err)
	}
	if !slices.Contains([]string{"NoData", "Alerting", "OK", "KeepLast"}, r.NoDataState) {
		t.Errorf("noDataState %q must be set deliberately (NoData, Alerting, OK, KeepLast)", r.NoDataState)
	}
	if !slices.Contains([]string{"Error", "Alerting", "OK", "KeepLast"}, r.ExecErrState) {
		t.Errorf("execErrState %q must be set deliberately (Error, Alerting, OK, KeepLast)", r.ExecErrState)
	}
	if r.DashboardUID != "" && !panels[r.DashboardUID][r.PanelID] {
		t.Errorf("links dashboard %q panel %d, which does not exist", r.DashboardUID, r.PanelID)
	}
	refs := map[string]bool{}
	for _, n := range r.Data {
		refs[n.RefID] = true
	}
	if !refs[r.Condition] {
		t.Errorf("condition %q names no data node (%v)", r.Condition, refs)
	}
	ours := 0
	for _, n := range r.Data {
		switch {
		case n.DatasourceUID == exprUID:
			e, _ := n.Model["expression"].(string)
			for _, ref := range regexp.MustCompile(`\$?([A-Za-z][A-Za-z0-9_]*)`).FindAllStringSubmatch(e, -1) {
				if !refs[ref[1]] || ref[1] == n.RefID {
					t.Errorf("expression %s refers to %q, which is no other node", n.RefID, ref[1])
				}
			}
			if typ, _ := n.Model["type"].(string); typ == "" {
				t.Errorf("expression %s has no type", n.RefID)
			}
		case w.datasources[n.DatasourceUID] == plugin.PluginID:
			ours++
			if n.RelativeTimeRange == nil || n.RelativeTimeRange.From <= n.RelativeTimeRange.To {
				t.Errorf("node %s: relativeTimeRange %+v, want from > to (seconds ago)", n.RefID, n.RelativeTimeRange)
			}
			q := decodeModel(t, "node "+n.RefID, n.Model)
			if n.QueryType != "" && n.QueryType != string(q.QueryType) {
				t.Errorf("node %s: queryType %q, model says %q", n.RefID, n.QueryType, q.QueryType)
			}
			if strings.Contains(fmt.Sprint(n.Model), "$") && !strings.Contains(fmt.Sprint(n.Model), "$__") {
				t.Errorf("node %s uses a dashboard variable; alert rules never expand them", n.RefID)
			}
			if q.QueryType == metricdoc.QueryLag && q.Measure == "" {
				t.Errorf("node %s: a lag query for alerting must name one measure (lag_records or lag_seconds) so the frame has exactly one numeric column", n.RefID)
			}
			if q.QueryType == metricdoc.QueryVariables || (q.QueryType == metricdoc.QueryMetrics && q.Format == metricdoc.FormatTimeSeriesLong) {
				t.Errorf("node %s: %s/%s results are not a shape alerting accepts", n.RefID, q.QueryType, q.Format)
			}
			parse(t, "node "+n.RefID, n.Model, n.QueryType)
		case w.datasources[n.DatasourceUID] == "prometheus":
			// A PromQL node: an instant query over documented series only.
			ours++
			if n.RelativeTimeRange == nil || n.RelativeTimeRange.From <= n.RelativeTimeRange.To {
				t.Errorf("node %s: relativeTimeRange %+v, want from > to (seconds ago)", n.RefID, n.RelativeTimeRange)
			}
			expr, _ := n.Model["expr"].(string)
			names := promSeries.FindAllString(expr, -1)
			if len(names) == 0 {
				t.Errorf("node %s reads no campaignpulse series: %q", n.RefID, expr)
			}
			series := documentedSeries(t)
			for _, name := range names {
				if !series[strings.TrimSuffix(name, "_bucket")] {
					t.Errorf("node %s: %s is not in docs/metrics.md", n.RefID, name)
				}
			}
		default:
			t.Errorf("node %s: datasourceUid %q is neither a provisioned datasource nor %s", n.RefID, n.DatasourceUID, exprUID)
		}
	}
	if ours == 0 {
		t.Errorf("no node queries a provisioned datasource")
	}
}

// TestFrontendMirrorsContract compares the TypeScript lists in
// grafana-plugin/src/types.ts with the Go contract.
func TestFrontendMirrorsContract(t *testing.T) {
	src, err := os.ReadFile(typesTS)
	if err != nil {
		t.Fatal(err)
	}
	list := func(name string) []string {
		m := regexp.MustCompile(`export const ` + name + ` = \[([^\]]*)\] as const`).FindSubmatch(src)
		if m == nil {
			t.Fatalf("types.ts has no %s = [...] as const", name)
		}
		var out []string
		for _, s := range regexp.MustCompile(`'([^']*)'`).FindAllSubmatch(m[1], -1) {
			out = append(out, string(s[1]))
		}
		return out
	}
	strs := func(v ...any) []string {
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = fmt.Sprint(x)
		}
		return out
	}
	var qt []any
	for _, q := range metricdoc.QueryTypes {
		qt = append(qt, q)
	}
	var ms []any // the measure table, in order
	for _, m := range metricdoc.MeasureNames() {
		ms = append(ms, m)
	}
	cases := map[string][]string{
		"QUERY_TYPES":   strs(qt...),
		"MEASURES":      strs(ms...),
		"LAG_MEASURES":  strs(metricdoc.MeasureLagRecords, metricdoc.MeasureLagSeconds),
		"FORMATS":       strs(metricdoc.FormatTimeSeries, metricdoc.FormatTimeSeriesLong, metricdoc.FormatTable),
		"GRANULARITIES": strs(metricdoc.GranularityAuto, metricdoc.Hour, metricdoc.Day),
		"DIMENSIONS":    metricdoc.Dimensions,
	}
	for name, want := range cases {
		if got := list(name); !slices.Equal(got, want) {
			t.Errorf("types.ts %s = %v, Go contract has %v", name, got, want)
		}
	}
	if got := list("FRESHNESS_FILTERS"); !slices.Equal(got, []string{metricdoc.DimApp}) {
		t.Errorf("types.ts FRESHNESS_FILTERS = %v, the backend filters freshness by %s only", got, metricdoc.DimApp)
	}
}
