package deploy

import (
	"bytes"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// documentedBuild is the one command deploy/README.md, docs/operations.md and the compose file
// give for building what Grafana mounts.
const documentedBuild = "make plugin"

// TestPluginDistFromTheDocumentedCommand: the documented command builds every file Grafana needs
// in the mounted folder (plugin.json, module.js, the backend binary named as plugin.json says),
// and `docker compose up` before it stops with a message naming that command instead of starting
// a Grafana without the plugin or creating an empty root-owned dist/.
func TestPluginDistFromTheDocumentedCommand(t *testing.T) {
	for _, doc := range []string{"deploy/README.md", "docs/operations.md", "docker-compose.yml"} {
		if !strings.Contains(readRepoFile(t, doc), documentedBuild) {
			t.Errorf("%s does not give %q as the build command", doc, documentedBuild)
		}
	}
	var meta struct {
		Executable string `json:"executable"`
	}
	if err := json.Unmarshal([]byte(readRepoFile(t, "grafana-plugin/src/plugin.json")), &meta); err != nil {
		t.Fatal(err)
	}
	// What the command runs (dry run: nothing is built here; `make test` builds the frontend).
	dry := exec.Command("make", "-n", "plugin", "PLUGIN_ARCH="+runtime.GOARCH)
	dry.Dir = ".."
	out, err := dry.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n plugin: %v\n%s", err, out)
	}
	recipe := string(out)
	for what, re := range map[string]string{
		"the backend binary":                    `go build .* -o grafana-plugin/dist/` + meta.Executable + `_linux_` + runtime.GOARCH + ` \./grafana-plugin/pkg`,
		"the frontend (module.js, plugin.json)": `npm .*run build`,
		"the dist check":                        `npm .*run check:dist`,
	} {
		if !regexp.MustCompile(re).MatchString(recipe) {
			t.Errorf("%s does not build %s (no line matching %s):\n%s", documentedBuild, what, re, recipe)
		}
	}
	webpack := readRepoFile(t, "grafana-plugin/webpack.config.js")
	if !strings.Contains(webpack, "plugin.json") || !strings.Contains(webpack, "entry: { module:") || !strings.Contains(webpack, "keep: /^(gpx_") {
		t.Errorf("webpack.config.js must emit module.js, copy plugin.json and keep the gpx_ binary in dist/")
	}

	p := loadProject(t)
	grafana, check := service(t, p, "grafana"), service(t, p, "plugin-check")
	for _, s := range []types.ServiceConfig{grafana, check} {
		v := mount(s, pluginTarget)
		switch {
		case v == nil || v.Type != types.VolumeTypeBind || !strings.HasSuffix(v.Source, filepath.Join("grafana-plugin", "dist")):
			t.Errorf("%s: grafana-plugin/dist not bind-mounted at %s", s.Name, pluginTarget)
		case v.Bind == nil || bool(v.Bind.CreateHostPath):
			t.Errorf("%s: the dist bind mount may create the host path (an empty root-owned dist/); set bind.create_host_path: false", s.Name)
		}
	}
	if d := grafana.DependsOn["plugin-check"]; d.Condition != types.ServiceConditionCompletedSuccessfully {
		t.Errorf("grafana starts without waiting for plugin-check to succeed (condition %q)", d.Condition)
	}
	if !slices.Contains(check.Entrypoint, "check-plugin") || mount(check, "/campaignpulse/grafana-start.sh") == nil {
		t.Errorf("plugin-check does not run deploy/grafana/start.sh check-plugin: %v", check.Entrypoint)
	}

	// The check itself, as the container runs it.
	script, _ := filepath.Abs("grafana/start.sh")
	run := func(files ...string) (string, error) {
		dir := t.TempDir()
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("sh", script, "check-plugin")
		cmd.Env = append(os.Environ(), "CAMPAIGNPULSE_PLUGIN_DIR="+dir)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	bin := meta.Executable + "_linux_" + runtime.GOARCH
	for name, files := range map[string][]string{"nothing built": nil, "backend binary only": {bin}, "frontend only": {"plugin.json", "module.js"}} {
		out, err := run(files...)
		if err == nil || !strings.Contains(out, "run `"+documentedBuild+"`") {
			t.Errorf("%s: check-plugin passed or gave no instruction (err %v):\n%s", name, err, out)
		}
	}
	if out, err := run("plugin.json", "module.js", bin); err != nil {
		t.Errorf("complete dist: check-plugin failed: %v\n%s", err, out)
	}
}

// contactPointsFile is what deploy/grafana/start.sh writes, decoded strictly with the keys
// Grafana's alerting provisioning reads.
type contactPointsFile struct {
	APIVersion    int   `yaml:"apiVersion"`
	ResetPolicies []int `yaml:"resetPolicies"`
	ContactPoints []struct {
		OrgID     int    `yaml:"orgId"`
		Name      string `yaml:"name"`
		Receivers []struct {
			UID      string         `yaml:"uid"`
			Type     string         `yaml:"type"`
			Settings map[string]any `yaml:"settings"`
		} `yaml:"receivers"`
	} `yaml:"contactPoints"`
	DeleteContactPoints []struct {
		OrgID int    `yaml:"orgId"`
		UID   string `yaml:"uid"`
	} `yaml:"deleteContactPoints"`
	Policies []struct {
		OrgID          int      `yaml:"orgId"`
		Receiver       string   `yaml:"receiver"`
		GroupBy        []string `yaml:"group_by"`
		GroupWait      string   `yaml:"group_wait"`
		GroupInterval  string   `yaml:"group_interval"`
		RepeatInterval string   `yaml:"repeat_interval"`
		Routes         []struct {
			Receiver       string     `yaml:"receiver"`
			ObjectMatchers [][]string `yaml:"object_matchers"`
			GroupWait      string     `yaml:"group_wait"`
			RepeatInterval string     `yaml:"repeat_interval"`
		} `yaml:"routes"`
	} `yaml:"policies"`
}

// TestContactPointsFromEnv runs Grafana's start script as the container does (minus the exec of
// Grafana) for each way of configuring notifications, and checks the provisioning it assembles:
// a contact point per configured channel with its address from the environment or a secret
// file, none (and Grafana's default policy, so provisioning succeeds and the rules evaluate)
// when nothing is configured, and never the old placeholder host.
func TestContactPointsFromEnv(t *testing.T) {
	for _, f := range []string{"provisioning/alerting/campaignpulse.yaml"} {
		var af map[string]any
		if err := yaml.Unmarshal([]byte(readRepoFile(t, f)), &af); err != nil {
			t.Fatal(err)
		}
		if af["contactPoints"] != nil || af["policies"] != nil {
			t.Errorf("%s provisions contact points or policies statically; they depend on the deployment's settings", f)
		}
	}
	p := loadProject(t, "CAMPAIGNPULSE_ALERT_EMAIL=oncall@example.com", "CAMPAIGNPULSE_SMTP_HOST=smtp.example.com:587")
	g := service(t, p, "grafana")
	if env(g, "CAMPAIGNPULSE_ALERT_EMAIL") != "oncall@example.com" || env(g, "GF_SMTP_HOST") != "smtp.example.com:587" {
		t.Errorf("grafana does not get the alert addresses and SMTP host from .env")
	}
	if !strings.HasPrefix(env(g, "GF_SMTP_PASSWORD__FILE"), "/run/secrets/") {
		t.Errorf("grafana: the SMTP password is not read from a secret file")
	}
	granted := map[string]bool{}
	for _, s := range g.Secrets {
		granted[s.Source] = true
	}
	for _, sec := range []string{"smtp_password", "alert_slack_webhook_url", "alert_webhook_url"} {
		if !granted[sec] {
			t.Errorf("grafana is not granted secret %s", sec)
		}
		if !strings.Contains(readRepoFile(t, "deploy/secrets/init.sh"), sec) {
			t.Errorf("deploy/secrets/init.sh does not create %s (compose refuses a missing secret file)", sec)
		}
	}
	if len(g.Entrypoint) < 2 || g.Entrypoint[1] != "/campaignpulse/grafana-start.sh" || mount(g, "/campaignpulse/grafana-start.sh") == nil {
		t.Fatalf("grafana does not start through deploy/grafana/start.sh: entrypoint %v", g.Entrypoint)
	}
	if tmp := strings.Join(g.Tmpfs, ","); !strings.Contains(tmp, "/etc/grafana/provisioning") {
		t.Errorf("grafana: /etc/grafana/provisioning is not a tmpfs for start.sh to fill (tmpfs %v)", g.Tmpfs)
	}

	plugin := t.TempDir()
	for _, f := range []string{"plugin.json", "module.js", "gpx_campaignpulse_linux_" + runtime.GOARCH} {
		if err := os.WriteFile(filepath.Join(plugin, f), []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script, _ := filepath.Abs("grafana/start.sh")
	src, _ := filepath.Abs("../provisioning")
	type channel struct{ email, smtp, slack, webhook string }
	start := func(t *testing.T, c channel) (contactPointsFile, map[string]string) {
		t.Helper()
		secrets, dst := t.TempDir(), t.TempDir()
		for name, v := range map[string]string{"smtp_password": "", "alert_slack_webhook_url": c.slack, "alert_webhook_url": c.webhook} {
			if err := os.WriteFile(filepath.Join(secrets, name), []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// Grafana's /run.sh replaced by env: the environment Grafana would start with.
		cmd := exec.Command("sh", script)
		cmd.Env = append(os.Environ(), "CAMPAIGNPULSE_EXEC=env", "CAMPAIGNPULSE_PLUGIN_DIR="+plugin,
			"CAMPAIGNPULSE_SECRETS_DIR="+secrets, "CAMPAIGNPULSE_PROVISIONING_SRC="+src, "GF_PATHS_PROVISIONING="+dst,
			"CAMPAIGNPULSE_ALERT_EMAIL="+c.email, "GF_SMTP_HOST="+c.smtp)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("start.sh: %v\n%s", err, out)
		}
		grafanaEnv := map[string]string{}
		for _, kv := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				grafanaEnv[k] = v
			}
		}
		for _, f := range []string{"datasources/campaignpulse.yaml", "datasources/prometheus.yaml", "dashboards/campaignpulse.yaml", "alerting/campaignpulse.yaml"} {
			if _, err := os.Stat(filepath.Join(dst, f)); err != nil {
				t.Errorf("provisioning lacks %s: %v", f, err)
			}
		}
		b, err := os.ReadFile(filepath.Join(dst, "alerting", "contact-points.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var cf contactPointsFile
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cf); err != nil {
			t.Fatalf("contact-points.yaml: %v\n%s", err, b)
		}
		if cf.APIVersion != 1 {
			t.Errorf("apiVersion %d", cf.APIVersion)
		}
		if strings.Contains(string(b), "alert-webhook") {
			t.Errorf("the placeholder host alert-webhook is back:\n%s", b)
		}
		// Every $VAR the file names is set in Grafana's environment (else Grafana expands it
		// to nothing and rejects the contact point at start).
		for _, ref := range regexp.MustCompile(`\$([A-Z][A-Z0-9_]*)`).FindAllStringSubmatch(string(b), -1) {
			if grafanaEnv[ref[1]] == "" {
				t.Errorf("contact-points.yaml uses $%s, which Grafana's environment lacks", ref[1])
			}
		}
		return cf, grafanaEnv
	}
	integrations := func(cf contactPointsFile) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, cp := range cf.ContactPoints {
			for _, r := range cp.Receivers {
				out[r.Type] = r.Settings
			}
		}
		return out
	}

	t.Run("none configured", func(t *testing.T) {
		cf, genv := start(t, channel{})
		if genv["CAMPAIGNPULSE_ALERT_SLACK_URL"] != "" || genv["GF_SMTP_ENABLED"] != "" {
			t.Errorf("channels enabled with nothing configured")
		}
		if len(cf.ContactPoints) != 0 || len(cf.Policies) != 0 || !slices.Equal(cf.ResetPolicies, []int{1}) {
			t.Errorf("want no contact point and the default policy tree, got %+v", cf)
		}
	})
	t.Run("email without SMTP", func(t *testing.T) {
		cf, _ := start(t, channel{email: "oncall@example.com"})
		if len(cf.ContactPoints) != 0 {
			t.Errorf("an email contact point without an SMTP server: %+v", cf.ContactPoints)
		}
	})
	t.Run("email", func(t *testing.T) {
		cf, genv := start(t, channel{email: "oncall@example.com", smtp: "smtp.example.com:587"})
		got := integrations(cf)
		if len(got) != 1 || got["email"]["addresses"] != "$CAMPAIGNPULSE_ALERT_EMAIL" {
			t.Errorf("integrations %v, want email to $CAMPAIGNPULSE_ALERT_EMAIL", got)
		}
		if genv["GF_SMTP_ENABLED"] != "true" || genv["CAMPAIGNPULSE_ALERT_EMAIL"] != "oncall@example.com" {
			t.Errorf("Grafana starts with GF_SMTP_ENABLED=%q CAMPAIGNPULSE_ALERT_EMAIL=%q", genv["GF_SMTP_ENABLED"], genv["CAMPAIGNPULSE_ALERT_EMAIL"])
		}
		if len(cf.Policies) != 1 || cf.Policies[0].Receiver != cf.ContactPoints[0].Name {
			t.Errorf("the policy does not route to the contact point: %+v", cf.Policies)
		}
		var deleted []string
		for _, d := range cf.DeleteContactPoints {
			deleted = append(deleted, d.UID)
		}
		if !slices.Equal(deleted, []string{"campaignpulse-slack", "campaignpulse-webhook"}) {
			t.Errorf("unconfigured integrations not removed: %v", deleted)
		}
	})
	t.Run("slack and webhook", func(t *testing.T) {
		cf, genv := start(t, channel{slack: "https://hooks.slack.com/services/T/B/x\n", webhook: "https://alerts.example.com/hook"})
		got := integrations(cf)
		if got["slack"]["url"] != "$CAMPAIGNPULSE_ALERT_SLACK_URL" || got["webhook"]["url"] != "$CAMPAIGNPULSE_ALERT_WEBHOOK_URL" {
			t.Errorf("integrations %v, want the URLs by environment variable", got)
		}
		if genv["CAMPAIGNPULSE_ALERT_SLACK_URL"] != "https://hooks.slack.com/services/T/B/x" || genv["CAMPAIGNPULSE_ALERT_WEBHOOK_URL"] != "https://alerts.example.com/hook" {
			t.Errorf("Grafana's environment does not carry the secret files' URLs: slack %q webhook %q", genv["CAMPAIGNPULSE_ALERT_SLACK_URL"], genv["CAMPAIGNPULSE_ALERT_WEBHOOK_URL"])
		}
		if genv["GF_SMTP_ENABLED"] == "true" {
			t.Errorf("SMTP enabled without a host")
		}
		if _, ok := got["email"]; ok {
			t.Errorf("email configured without addresses")
		}
		for _, r := range cf.Policies[0].Routes {
			if r.Receiver != "campaignpulse" {
				t.Errorf("route to %q", r.Receiver)
			}
		}
	})
}

// TestPrometheusDatasourceForTheRunbook: the Prometheus that compose runs is provisioned as a
// Grafana datasource Grafana can reach, and every series the alert runbook tells the operator to
// look at is on the pipeline-health dashboard through it.
func TestPrometheusDatasourceForTheRunbook(t *testing.T) {
	var cfg struct {
		Datasources []struct {
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "provisioning/datasources/prometheus.yaml")), &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Datasources) != 1 || cfg.Datasources[0].Type != "prometheus" {
		t.Fatalf("provisioning/datasources/prometheus.yaml: %+v", cfg.Datasources)
	}
	ds := cfg.Datasources[0]
	u, err := url.Parse(ds.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := loadProject(t)
	prom, err := p.GetService(u.Hostname())
	if err != nil {
		t.Fatalf("datasource url %s: no compose service %s", ds.URL, u.Hostname())
	}
	if !slices.Contains(prom.Command, "--web.listen-address=:"+u.Port()) {
		t.Errorf("datasource url %s: prometheus listens per %v", ds.URL, prom.Command)
	}
	if !sharesNetwork(service(t, p, "grafana"), prom) {
		t.Errorf("grafana and prometheus share no network")
	}

	var dash struct {
		Panels []struct {
			Title      string `json:"title"`
			Datasource *struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(readRepoFile(t, "dashboards/pipeline-health.json")), &dash); err != nil {
		t.Fatal(err)
	}
	var exprs strings.Builder
	for _, pn := range dash.Panels {
		if pn.Datasource != nil && pn.Datasource.UID == ds.UID {
			for _, tg := range pn.Targets {
				exprs.WriteString(tg.Expr + "\n")
			}
		}
	}
	ops := readRepoFile(t, "docs/operations.md")
	alerts, _, _ := strings.Cut(ops[strings.Index(ops, "## Alerts"):], "\n## Backfill")
	named := regexp.MustCompile(`campaignpulse_[a-z0-9_]+`).FindAllString(alerts, -1)
	if len(named) < 5 {
		t.Fatalf("the runbook names %d series; parsing is off", len(named))
	}
	for _, n := range named {
		if !strings.Contains(exprs.String(), n) {
			t.Errorf("the runbook names %s, which no Prometheus panel of pipeline-health shows", n)
		}
	}
}

// TestOneTimeZoneSetting: CAMPAIGNPULSE_TIMEZONE reaches the aggregator's day windows, the
// datasource's jsonData.timeZone and the dashboards' zone, and nothing else sets them.
func TestOneTimeZoneSetting(t *testing.T) {
	for _, tz := range []string{"", "Asia/Kolkata"} {
		var envs []string
		want := "UTC"
		if tz != "" {
			envs, want = []string{"CAMPAIGNPULSE_TIMEZONE=" + tz}, tz
		}
		p := loadProject(t, envs...)
		g := service(t, p, "grafana")
		got := map[string]string{
			"aggregate CAMPAIGNPULSE_AGGREGATE_TIMEZONE":  env(service(t, p, "aggregate"), "CAMPAIGNPULSE_AGGREGATE_TIMEZONE"),
			"grafana CAMPAIGNPULSE_TIMEZONE (datasource)": env(g, "CAMPAIGNPULSE_TIMEZONE"),
			"grafana GF_DATE_FORMATS_DEFAULT_TIMEZONE":    env(g, "GF_DATE_FORMATS_DEFAULT_TIMEZONE"),
		}
		for where, v := range got {
			if v != want {
				t.Errorf("CAMPAIGNPULSE_TIMEZONE=%q: %s = %q, want %q", tz, where, v, want)
			}
		}
	}
	var dsf struct {
		Datasources []struct {
			JSONData map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "provisioning/datasources/campaignpulse.yaml")), &dsf); err != nil {
		t.Fatal(err)
	}
	if tz := dsf.Datasources[0].JSONData["timeZone"]; tz != "$CAMPAIGNPULSE_TIMEZONE" {
		t.Errorf("datasource jsonData.timeZone = %v, want $CAMPAIGNPULSE_TIMEZONE", tz)
	}
	files, _ := filepath.Glob("../dashboards/*.json")
	for _, f := range files {
		var d struct {
			Timezone string `json:"timezone"`
		}
		b, _ := os.ReadFile(f)
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		if d.Timezone != "" {
			t.Errorf("%s: timezone %q overrides GF_DATE_FORMATS_DEFAULT_TIMEZONE", filepath.Base(f), d.Timezone)
		}
	}
}

// TestHealthchecksMeanSomething: MongoDB is healthy only when the app users can log in and read,
// and our services' healthchecks ask for readiness on the internal listener.
func TestHealthchecksMeanSomething(t *testing.T) {
	p := loadProject(t)
	mongo := service(t, p, "mongo")
	test := strings.Join(mongo.HealthCheck.Test, " ")
	target := regexp.MustCompile(`/campaignpulse/[a-z]+\.js`).FindString(test)
	if m := mount(mongo, target); target == "" || m == nil || !strings.HasSuffix(m.Source, "deploy/mongo/healthcheck.js") || !m.ReadOnly {
		t.Fatalf("mongo healthcheck %q does not run deploy/mongo/healthcheck.js (mounted read-only)", test)
	}
	check := readRepoFile(t, "deploy/mongo/healthcheck.js")
	users := regexp.MustCompile(`user: '([a-z_]+)',\s*pwd: secret\('([a-z_]+)'\)`).FindAllStringSubmatch(readRepoFile(t, "deploy/mongo/init/01-users.js"), -1)
	if len(users) < 2 {
		t.Fatalf("01-users.js creates %d users; parsing is off", len(users))
	}
	for _, u := range users {
		if !strings.Contains(check, "['"+u[1]+"', '"+u[2]+"']") {
			t.Errorf("healthcheck.js does not log in as %s with secret %s", u[1], u[2])
		}
	}
	if !strings.Contains(check, "getCollectionNames()") || regexp.MustCompile(`['"{]\s*ping\b`).MatchString(check) {
		t.Errorf("healthcheck.js must prove login and read rights (listCollections), not ping")
	}
	if node, err := exec.LookPath("node"); err == nil {
		if out, err := exec.Command(node, "--check", "mongo/healthcheck.js").CombinedOutput(); err != nil {
			t.Errorf("healthcheck.js is not valid JavaScript: %v\n%s", err, out)
		}
	}
	for _, name := range []string{"ingest", "aggregate"} {
		s := service(t, p, name)
		_, port, _ := net.SplitHostPort(env(s, "CAMPAIGNPULSE_HTTP_ADDR"))
		if want := "http://127.0.0.1:" + port + "/readyz"; port == "" || !slices.Contains(s.HealthCheck.Test, want) {
			t.Errorf("%s: healthcheck %v, want readiness %s on the internal listener", name, s.HealthCheck.Test, want)
		}
	}
}

// TestOpsEndpointsNotPublished: /metrics and /readyz live on each service's internal listener
// (CAMPAIGNPULSE_HTTP_ADDR), which no service publishes, and Prometheus scrapes exactly those.
func TestOpsEndpointsNotPublished(t *testing.T) {
	p := loadAll(t)
	for name, s := range p.Services {
		_, ops, _ := net.SplitHostPort(env(s, "CAMPAIGNPULSE_HTTP_ADDR"))
		_, push, _ := net.SplitHostPort(env(s, "CAMPAIGNPULSE_PUSH_ADDR"))
		if push != "" && push == ops {
			t.Errorf("%s: the push receiver and the ops endpoints share port %s", name, push)
		}
		for _, port := range s.Ports {
			if ops != "" && port.Target == mustPort(t, ops) {
				t.Errorf("%s: publishes its /metrics and /readyz port %s", name, ops)
			}
		}
	}
	var cfg struct {
		ScrapeConfigs []struct {
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "deploy/prometheus/prometheus.yml")), &cfg); err != nil {
		t.Fatal(err)
	}
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, port, _ := net.SplitHostPort(target)
				s, err := p.GetService(host)
				if err != nil || (host != "grafana" && slices.ContainsFunc(s.Ports, func(pc types.ServicePortConfig) bool { return pc.Target == mustPort(t, port) })) {
					continue
				}
				if ourServices[host] != "" && env(s, "CAMPAIGNPULSE_HTTP_ADDR") != ":"+port {
					t.Errorf("prometheus scrapes %s, not %s's internal listener %s", target, host, env(s, "CAMPAIGNPULSE_HTTP_ADDR"))
				}
			}
		}
	}
}

func mustPort(t *testing.T, p string) uint32 {
	t.Helper()
	var n uint32
	for _, c := range p {
		if c < '0' || c > '9' {
			t.Fatalf("port %q", p)
		}
		n = n*10 + uint32(c-'0')
	}
	return n
}

// TestMemoryLimitsFit: Grafana's limit leaves room for the plugin's own process, the Kafka
// healthcheck does not run with the broker's heap, and every memory limit in the file says next
// to it what resident size it was sized from.
func TestMemoryLimitsFit(t *testing.T) {
	const (
		mib = 1 << 20
		// Grafana documents 512 MB as the minimum memory; the plugin process measured 53 MiB
		// RSS at most through the contract suite (deploy/README.md, "Memory").
		grafanaMin = 512 * mib
		pluginRSS  = 53 * mib
	)
	p := loadAll(t)
	if lim := service(t, p, "grafana").Deploy.Resources.Limits.MemoryBytes; int64(lim) < grafanaMin+pluginRSS+128*mib {
		t.Errorf("grafana memory limit %d MiB leaves no room for the plugin process (%d + %d MiB + headroom)", lim/mib, grafanaMin/mib, pluginRSS/mib)
	}
	kafka := service(t, p, "kafka")
	hc := strings.Join(kafka.HealthCheck.Test, " ")
	m := regexp.MustCompile(`KAFKA_HEAP_OPTS=-Xmx(\d+)m`).FindStringSubmatch(hc)
	if m == nil {
		t.Errorf("kafka healthcheck %q runs a JVM that inherits the broker's KAFKA_HEAP_OPTS (%s)", hc, env(kafka, "KAFKA_HEAP_OPTS"))
	} else if n := mustPort(t, m[1]); n > 128 {
		t.Errorf("kafka healthcheck heap %s MiB; a metadata request needs < 128", m[1])
	}
	heap := regexp.MustCompile(`-Xmx(\d+)([mg])`).FindStringSubmatch(env(kafka, "KAFKA_HEAP_OPTS"))
	if heap != nil {
		maxHeap := int64(mustPort(t, heap[1])) * mib
		if heap[2] == "g" {
			maxHeap *= 1024
		}
		if lim := int64(kafka.Deploy.Resources.Limits.MemoryBytes); lim < maxHeap+256*mib {
			t.Errorf("kafka limit %d MiB < heap %d MiB + 256 MiB off-heap", lim/mib, maxHeap/mib)
		}
	}
	lines := strings.Split(readRepoFile(t, "docker-compose.yml"), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), "memory:") {
			continue
		}
		context := strings.Join(lines[max(0, i-4):i+1], "\n")
		if !regexp.MustCompile(`(?i)RSS|heap|cache`).MatchString(context) {
			t.Errorf("docker-compose.yml line %d: %q states no measured or documented resident size next to it", i+1, strings.TrimSpace(l))
		}
	}
}

// TestFreshnessThresholdsPerSource: push and pull are held to different thresholds, the pull one
// derived from the poller's delay and window as compose sets them, so pull-only apps do not fire
// every hour at the end of each window.
func TestFreshnessThresholdsPerSource(t *testing.T) {
	var af struct {
		Groups []struct {
			Rules []struct {
				UID  string `yaml:"uid"`
				Data []struct {
					Model map[string]any `yaml:"model"`
				} `yaml:"data"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "provisioning/alerting/campaignpulse.yaml")), &af); err != nil {
		t.Fatal(err)
	}
	ingest := service(t, loadProject(t), "ingest")
	delay, err1 := time.ParseDuration(env(ingest, "CAMPAIGNPULSE_PULL_DELAY"))
	window, err2 := time.ParseDuration(env(ingest, "CAMPAIGNPULSE_PULL_WINDOW"))
	if err1 != nil || err2 != nil {
		t.Fatalf("ingest: CAMPAIGNPULSE_PULL_DELAY/WINDOW not set explicitly: %v %v", err1, err2)
	}
	threshold := map[string]float64{}
	for _, g := range af.Groups {
		for _, r := range g.Rules {
			var source string
			fresh := false
			var gt float64
			for _, n := range r.Data {
				if n.Model["queryType"] == "freshness" {
					fresh = true
					f, _ := n.Model["filters"].(map[string]any)
					if src, _ := f["source"].([]any); len(src) == 1 {
						source, _ = src[0].(string)
					}
				}
				if n.Model["type"] == "threshold" {
					conds, _ := n.Model["conditions"].([]any)
					c0, _ := conds[0].(map[string]any)
					ev, _ := c0["evaluator"].(map[string]any)
					ps, _ := ev["params"].([]any)
					gt = toFloat(ps[0])
				}
			}
			if !fresh {
				continue
			}
			if source == "" {
				t.Errorf("rule %s: freshness without a single source filter holds push and pull to one threshold", r.UID)
				continue
			}
			threshold[source] = gt
		}
	}
	if want := (delay + 2*window).Seconds(); threshold["pull"] < want {
		t.Errorf("pull freshness threshold %v s < --pull.delay + 2 x --pull.window = %v s: fires at the end of every window", threshold["pull"], want)
	}
	if threshold["push"] <= 0 || threshold["push"] > 3600 {
		t.Errorf("push freshness threshold %v s, want at most an hour", threshold["push"])
	}
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case float64:
		return n
	case uint64:
		return float64(n)
	}
	return -1
}

// TestProfiles: demo runs the simulator against the stack's own push receiver; tls puts Caddy in
// front of Grafana (with Live's WebSocket) and the push path; admin runs Mongo Express on
// loopback only with its own login and no credentials in its environment.
func TestProfiles(t *testing.T) {
	p := loadAll(t)
	ingest := service(t, p, "ingest")
	_, pushPort, _ := net.SplitHostPort(env(ingest, "CAMPAIGNPULSE_PUSH_ADDR"))

	sim := service(t, p, "simulator")
	u, err := url.Parse(env(sim, "CAMPAIGNPULSE_PUSH_URL"))
	if err != nil || u.Hostname() != "ingest" || u.Port() != pushPort || u.Path != "/v1/push" {
		t.Errorf("simulator pushes to %q, want http://ingest:%s/v1/push", env(sim, "CAMPAIGNPULSE_PUSH_URL"), pushPort)
	}
	if env(sim, "CAMPAIGNPULSE_PUSH_TOKEN_FILE") != env(ingest, "CAMPAIGNPULSE_PUSH_TOKEN_FILE") {
		t.Errorf("simulator and ingest read different push tokens")
	}
	if !sharesNetwork(sim, ingest) || sim.DependsOn["ingest"].Condition != types.ServiceConditionHealthy {
		t.Errorf("simulator must reach ingest and wait for it to be healthy")
	}

	caddy := service(t, p, "caddy")
	if m := mount(caddy, "/etc/caddy/Caddyfile"); m == nil || !strings.HasSuffix(m.Source, "deploy/caddy/Caddyfile") {
		t.Fatalf("caddy does not mount deploy/caddy/Caddyfile")
	}
	caddyfile := readRepoFile(t, "deploy/caddy/Caddyfile")
	for _, want := range []string{"{$CAMPAIGNPULSE_DOMAIN:localhost}", "handle /v1/push", "reverse_proxy ingest:" + pushPort, "path /api/live/ws", "reverse_proxy grafana:3000"} {
		if !strings.Contains(caddyfile, want) {
			t.Errorf("Caddyfile lacks %q", want)
		}
	}
	var published []uint32
	for _, pc := range caddy.Ports {
		published = append(published, pc.Target)
	}
	slices.Sort(published)
	if !slices.Equal(published, []uint32{80, 443}) {
		t.Errorf("caddy publishes %v, want 80 (ACME, redirect) and 443", published)
	}
	for _, up := range []string{"grafana", "ingest"} {
		if !sharesNetwork(caddy, service(t, p, up)) {
			t.Errorf("caddy cannot reach %s", up)
		}
	}
	if v := mount(caddy, "/data"); v == nil || v.Type != types.VolumeTypeVolume {
		t.Errorf("caddy's certificates (/data) are not in a named volume: renewals would start over")
	}

	me := service(t, p, "mongo-express")
	for _, pc := range me.Ports {
		if pc.HostIP != "127.0.0.1" {
			t.Errorf("mongo-express publishes %d on %q, want 127.0.0.1 only", pc.Target, pc.HostIP)
		}
	}
	for k := range me.Environment {
		if strings.Contains(k, "PASSWORD") || strings.Contains(k, "MONGODB_URL") || strings.Contains(k, "SECRET") {
			t.Errorf("mongo-express: %s in the environment; credentials come from secret files", k)
		}
	}
	start := readRepoFile(t, "deploy/mongo-express/start.sh")
	for _, sec := range me.Secrets {
		if !strings.Contains(start, "secret "+sec.Source) {
			t.Errorf("mongo-express is granted %s but start.sh does not read it", sec.Source)
		}
	}
	if !strings.Contains(start, "secret mongo_express_password") || env(me, "ME_CONFIG_BASICAUTH_ENABLED") != "true" {
		t.Errorf("mongo-express has no login of its own")
	}
	if !sharesNetwork(me, service(t, p, "mongo")) {
		t.Errorf("mongo-express cannot reach mongo")
	}
}

// TestReferencedFilesExist: paths named in the deployment's comments and documentation exist
// (secret files exist as their .example templates).
func TestReferencedFilesExist(t *testing.T) {
	docs := []string{"docker-compose.yml", "deploy/README.md", "docs/operations.md", "README.md", "Dockerfile",
		"deploy/grafana/start.sh", "deploy/mongo/healthcheck.js", "deploy/mongo-express/start.sh", "deploy/caddy/Caddyfile",
		"deploy/prometheus/prometheus.yml", "provisioning/alerting/campaignpulse.yaml", "provisioning/datasources/campaignpulse.yaml",
		"provisioning/datasources/prometheus.yaml", "provisioning/dashboards/campaignpulse.yaml"}
	ref := regexp.MustCompile(`\b(?:deploy|docs|provisioning|dashboards|scripts|grafana-plugin|aggregator)/[A-Za-z0-9_./-]*[A-Za-z0-9_]`)
	mdRef := regexp.MustCompile(`\b[a-z][a-z0-9-]*\.md\b`)
	for _, doc := range docs {
		text := readRepoFile(t, doc)
		for _, r := range ref.FindAllString(text, -1) {
			if strings.Contains(r, "<") || strings.HasSuffix(r, "/dist") || strings.HasPrefix(r, "grafana-plugin/dist") {
				continue // placeholders and build output
			}
			if _, err := os.Stat(filepath.Join("..", r)); err == nil {
				continue
			}
			if _, err := os.Stat(filepath.Join("..", r+".example")); err == nil {
				continue
			}
			t.Errorf("%s names %s, which does not exist", doc, r)
		}
		for _, r := range mdRef.FindAllString(text, -1) {
			found := false
			for _, dir := range []string{".", "docs", "deploy", filepath.Dir(doc)} {
				if _, err := os.Stat(filepath.Join("..", dir, r)); err == nil {
					found = true
				}
			}
			if !found && !strings.EqualFold(r, "readme.md") {
				t.Errorf("%s names %s, which does not exist", doc, r)
			}
		}
	}
}

// TestSettingsDocumented: every variable docker-compose.yml reads from the shell or .env is
// described in deploy/README.md.
func TestSettingsDocumented(t *testing.T) {
	readme := readRepoFile(t, "deploy/README.md")
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]*)`).FindAllStringSubmatch(readRepoFile(t, "docker-compose.yml"), -1) {
		if seen[m[1]] {
			continue
		}
		seen[m[1]] = true
		if !strings.Contains(readme, "`"+m[1]+"`") {
			t.Errorf("docker-compose.yml reads ${%s}, which deploy/README.md does not describe", m[1])
		}
	}
	if len(seen) < 10 {
		t.Fatalf("found %d variables; parsing is off", len(seen))
	}
}
