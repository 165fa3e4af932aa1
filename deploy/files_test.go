package deploy

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

func readRepoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return string(b)
}

// TestVersionsAgree keeps the three places that name a version in step: the Go toolchain in
// go.mod and the Dockerfile, and the Kafka release the tests run (pom) and compose deploys.
func TestVersionsAgree(t *testing.T) {
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(readRepoFile(t, "go.mod"))
	builder := regexp.MustCompile(`(?m)^FROM golang:(\S+?)(-\S+)? AS build$`).FindStringSubmatch(readRepoFile(t, "Dockerfile"))
	if goVersion == nil || builder == nil || goVersion[1] != builder[1] {
		t.Errorf("go.mod go %v vs Dockerfile golang:%v: want the same version", goVersion, builder)
	}
	pom := regexp.MustCompile(`<kafka.version>([^<]+)</kafka.version>`).FindStringSubmatch(readRepoFile(t, "scripts/kafka/pom.xml"))
	p := loadProject(t)
	if img := service(t, p, "kafka").Image; pom == nil || img != "apache/kafka:"+pom[1] {
		t.Errorf("compose kafka image %q vs pom kafka.version %v: want the same release", img, pom)
	}
	if !strings.Contains(readRepoFile(t, "Dockerfile"), "./aggregator/cmd/campaignpulse") {
		t.Errorf("Dockerfile does not build ./aggregator/cmd/campaignpulse")
	}
}

// TestPrometheusScrapesOurServices checks every scrape target is a compose service on a port that
// service listens on, and that both campaignpulse services are scraped.
func TestPrometheusScrapesOurServices(t *testing.T) {
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "deploy/prometheus/prometheus.yml")), &cfg); err != nil {
		t.Fatalf("parse prometheus.yml: %v", err)
	}
	p := loadProject(t)
	prom := service(t, p, "prometheus")
	if m := mount(prom, "/etc/prometheus/prometheus.yml"); m == nil || !strings.HasSuffix(m.Source, "deploy/prometheus/prometheus.yml") {
		t.Fatalf("prometheus: deploy/prometheus/prometheus.yml not mounted")
	}
	scraped := map[string]bool{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, port, err := net.SplitHostPort(target)
				if err != nil {
					t.Errorf("job %s: target %q: %v", sc.JobName, target, err)
					continue
				}
				if host == "localhost" {
					continue
				}
				s, err := p.GetService(host)
				if err != nil {
					t.Errorf("job %s: target %q is no compose service", sc.JobName, target)
					continue
				}
				if !listensOn(s, port) {
					t.Errorf("job %s: %s does not listen on %s", sc.JobName, host, port)
				}
				if !sharesNetwork(prom, s) {
					t.Errorf("job %s: prometheus and %s share no network", sc.JobName, host)
				}
				scraped[host] = true
			}
		}
	}
	for _, want := range []string{"ingest", "aggregate"} {
		if !scraped[want] {
			t.Errorf("prometheus does not scrape %s", want)
		}
	}
}

// TestMongoInitUsesGrantedSecrets checks the user-creation script reads only secrets the mongo
// service is granted, and creates no user with more than readWrite on the pipeline database.
func TestMongoInitUsesGrantedSecrets(t *testing.T) {
	p := loadProject(t)
	mongo := service(t, p, "mongo")
	if m := mount(mongo, "/docker-entrypoint-initdb.d"); m == nil || !m.ReadOnly {
		t.Fatalf("mongo: deploy/mongo/init not mounted read-only at /docker-entrypoint-initdb.d")
	}
	script := readRepoFile(t, "deploy/mongo/init/01-users.js")
	var granted []string
	for _, s := range mongo.Secrets {
		granted = append(granted, s.Source)
	}
	uses := regexp.MustCompile(`secret\('([a-z_]+)'\)`).FindAllStringSubmatch(script, -1)
	if len(uses) == 0 {
		t.Fatal("01-users.js reads no secret")
	}
	for _, u := range uses {
		if !slices.Contains(granted, u[1]) {
			t.Errorf("01-users.js reads secret %q, not granted to mongo (granted %v)", u[1], granted)
		}
	}
	for _, role := range regexp.MustCompile(`role: '([A-Za-z]+)'`).FindAllStringSubmatch(script, -1) {
		if role[1] != "readWrite" && role[1] != "read" {
			t.Errorf("01-users.js grants role %q; app users get readWrite or read only", role[1])
		}
	}
	for name, s := range p.Services {
		uri := env(s, "CAMPAIGNPULSE_MONGO_URI")
		if uri != "" && !strings.Contains(uri, "campaignpulse@mongo:27017") {
			t.Errorf("%s: CAMPAIGNPULSE_MONGO_URI=%q, want the least-privilege campaignpulse user", name, uri)
		}
	}
}

func listensOn(s types.ServiceConfig, port string) bool {
	for _, v := range s.Environment {
		if v != nil && strings.HasSuffix(*v, ":"+port) && strings.HasPrefix(*v, ":") {
			return true
		}
	}
	for _, a := range s.Command {
		if strings.HasSuffix(a, ":"+port) {
			return true
		}
	}
	if s.HealthCheck != nil && strings.Contains(strings.Join(s.HealthCheck.Test, " "), ":"+port+"/") {
		return true
	}
	return false
}

func sharesNetwork(a, b types.ServiceConfig) bool {
	for n := range a.Networks {
		if _, ok := b.Networks[n]; ok {
			return true
		}
	}
	return false
}

// TestDatasourceMatchesDeployment checks the provisioned Grafana datasource reaches what compose
// deploys: the aggregator's consumer group (for lag), the read-only Mongo user the init script
// creates, a password secret granted to grafana, and broker/Mongo hosts that are compose services.
func TestDatasourceMatchesDeployment(t *testing.T) {
	var cfg struct {
		Datasources []struct {
			Type           string            `yaml:"type"`
			JSONData       map[string]any    `yaml:"jsonData"`
			SecureJSONData map[string]string `yaml:"secureJsonData"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "provisioning/datasources/campaignpulse.yaml")), &cfg); err != nil {
		t.Fatalf("parse datasource provisioning: %v", err)
	}
	p := loadProject(t)
	grafana := service(t, p, "grafana")
	script := readRepoFile(t, "deploy/mongo/init/01-users.js")
	found := false
	for _, ds := range cfg.Datasources {
		if ds.Type != pluginID {
			continue
		}
		found = true
		str := func(k string) string { s, _ := ds.JSONData[k].(string); return s }
		if g, want := str("kafkaConsumerGroup"), env(service(t, p, "aggregate"), "CAMPAIGNPULSE_KAFKA_GROUP"); g != want {
			t.Errorf("datasource kafkaConsumerGroup %q, aggregate group %q: lag would watch the wrong group", g, want)
		}
		if u := str("mongoUsername"); !strings.Contains(script, "user: '"+u+"'") {
			t.Errorf("datasource mongoUsername %q is not created by deploy/mongo/init/01-users.js", u)
		}
		pw := regexp.MustCompile(`^\$__file\{/run/secrets/([a-z_]+)\}$`).FindStringSubmatch(ds.SecureJSONData["mongoPassword"])
		if pw == nil || !slices.ContainsFunc(grafana.Secrets, func(s types.ServiceSecretConfig) bool { return s.Source == pw[1] }) {
			t.Errorf("datasource mongoPassword %q is not a secret file granted to grafana", ds.SecureJSONData["mongoPassword"])
		}
		for _, addr := range []string{str("kafkaBrokers"), regexp.MustCompile(`^mongodb://([^/]+)`).FindString(ds.SecureJSONData["mongoUri"])} {
			host, _, err := net.SplitHostPort(strings.TrimPrefix(addr, "mongodb://"))
			if err != nil {
				t.Errorf("datasource address %q: %v", addr, err)
				continue
			}
			s, err := p.GetService(host)
			if err != nil || !sharesNetwork(grafana, s) {
				t.Errorf("datasource host %q is not a compose service grafana can reach", host)
			}
		}
	}
	if !found {
		t.Fatalf("no %s datasource provisioned", pluginID)
	}
}

// TestGrafanaSatisfiesPluginDependency checks the pinned Grafana image is new enough for the
// plugin's grafanaDependency; an older Grafana refuses to load the plugin at startup.
func TestGrafanaSatisfiesPluginDependency(t *testing.T) {
	var meta struct {
		Dependencies struct {
			GrafanaDependency string `json:"grafanaDependency"`
		} `json:"dependencies"`
	}
	if err := json.Unmarshal([]byte(readRepoFile(t, "grafana-plugin/src/plugin.json")), &meta); err != nil {
		t.Fatalf("parse plugin.json: %v", err)
	}
	min, ok := strings.CutPrefix(meta.Dependencies.GrafanaDependency, ">=")
	if !ok {
		t.Fatalf("grafanaDependency %q: only >=X.Y.Z is understood here", meta.Dependencies.GrafanaDependency)
	}
	img := service(t, loadProject(t), "grafana").Image
	tag := img[strings.LastIndex(img, ":")+1:]
	if semverLess(tag, min) {
		t.Errorf("grafana image %s is older than the plugin's grafanaDependency >=%s", img, min)
	}
}

// semverLess compares dotted numeric versions ("12.4.10" < "12.10.0").
func semverLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// TestBuildContextExcludesSecrets keeps real secret files and local state out of the image build
// context (`COPY . .` would otherwise bake them into a layer).
func TestBuildContextExcludesSecrets(t *testing.T) {
	lines := strings.Split(readRepoFile(t, ".dockerignore"), "\n")
	for _, want := range []string{"deploy/secrets", ".git", ".kafka", "**/node_modules"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
}
