package deploy

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

const (
	pluginID     = "campaignpulse-metrics-datasource"
	pluginTarget = "/var/lib/grafana/plugins/" + pluginID
)

// oneShots are services that run to completion; they need no healthcheck but must not restart.
var oneShots = []string{"topics", "plugin-check"}

// dataStores are services whose ports must never be published on a non-loopback address.
var dataStores = []string{"kafka", "mongo"}

// ourServices run the campaignpulse image, each one subcommand.
var ourServices = map[string]string{"topics": "topics", "ingest": "ingest", "aggregate": "aggregate", "simulator": "simulate"}

// profiles are the opt-in parts of the file; loadAll enables every one.
var profiles = []string{"demo", "tls", "admin"}

func loadProject(t *testing.T, env ...string) *types.Project {
	t.Helper()
	return loadProfiles(t, nil, env...)
}

// loadAll loads the file with every profile enabled.
func loadAll(t *testing.T, env ...string) *types.Project {
	t.Helper()
	return loadProfiles(t, profiles, env...)
}

func loadProfiles(t *testing.T, profiles []string, env ...string) *types.Project {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(env), // only what the case sets: the developer's shell must not change the result
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithResolvedPaths(true),
		cli.WithConsistency(true),
		cli.WithProfiles(profiles),
	)
	if err != nil {
		t.Fatalf("compose options: %v", err)
	}
	p, err := cli.ProjectFromOptions(context.Background(), opts)
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %s: %v", name, err)
	}
	return s
}

func TestComposeHasTheWholePipeline(t *testing.T) {
	p := loadProject(t)
	want := []string{"aggregate", "grafana", "ingest", "kafka", "mongo", "plugin-check", "prometheus", "topics"}
	got := p.ServiceNames()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("services = %v, want %v (profile services must stay opt-in)", got, want)
	}
	all := loadAll(t)
	for svc, profile := range map[string]string{"simulator": "demo", "caddy": "tls", "mongo-express": "admin"} {
		s := service(t, all, svc)
		if !slices.Equal(s.Profiles, []string{profile}) {
			t.Errorf("%s: profiles %v, want [%s]", svc, s.Profiles, profile)
		}
	}
	for name, cmd := range ourServices {
		s := service(t, all, name)
		if s.Build == nil || filepath.Base(s.Build.Dockerfile) != "Dockerfile" {
			t.Errorf("%s: not built from the repository Dockerfile (build=%+v)", name, s.Build)
		}
		if len(s.Command) == 0 || s.Command[0] != cmd {
			t.Errorf("%s: command %v, want the %q subcommand", name, s.Command, cmd)
		}
	}
}

func TestEveryServiceIsHealthcheckedOrOneShot(t *testing.T) {
	p := loadAll(t)
	for name, s := range p.Services {
		if slices.Contains(oneShots, name) {
			if s.Restart != types.RestartPolicyNo {
				t.Errorf("%s: one-shot service has restart %q, want %q", name, s.Restart, types.RestartPolicyNo)
			}
			continue
		}
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) < 2 {
			t.Errorf("%s: no healthcheck", name)
			continue
		}
		if kind := s.HealthCheck.Test[0]; kind != "CMD" && kind != "CMD-SHELL" {
			t.Errorf("%s: healthcheck test %v does not run a command", name, s.HealthCheck.Test)
		}
		if s.HealthCheck.Interval == nil || s.HealthCheck.Timeout == nil || s.HealthCheck.StartPeriod == nil {
			t.Errorf("%s: healthcheck needs interval, timeout and start_period", name)
		}
		if s.Restart != types.RestartPolicyUnlessStopped && s.Restart != types.RestartPolicyAlways {
			t.Errorf("%s: restart %q, want unless-stopped", name, s.Restart)
		}
	}
}

func TestDependenciesWaitForHealth(t *testing.T) {
	p := loadProject(t)
	cases := []struct{ service, dep, condition string }{
		{"topics", "kafka", types.ServiceConditionHealthy},
		{"ingest", "topics", types.ServiceConditionCompletedSuccessfully},
		{"aggregate", "topics", types.ServiceConditionCompletedSuccessfully},
		{"aggregate", "mongo", types.ServiceConditionHealthy},
		{"grafana", "mongo", types.ServiceConditionHealthy},
		{"grafana", "kafka", types.ServiceConditionHealthy},
	}
	for _, tc := range cases {
		s := service(t, p, tc.service)
		d, ok := s.DependsOn[tc.dep]
		if !ok {
			t.Errorf("%s: does not depend on %s", tc.service, tc.dep)
			continue
		}
		if d.Condition != tc.condition {
			t.Errorf("%s -> %s: condition %q, want %q", tc.service, tc.dep, d.Condition, tc.condition)
		}
	}
}

// TestNoPublicDataStorePorts loads the file with the bind overrides an operator may set, and
// checks Kafka and MongoDB stay off every host interface (Docker-published ports bypass ufw).
func TestNoPublicDataStorePorts(t *testing.T) {
	envs := map[string][]string{
		"defaults":            nil,
		"public grafana/push": {"CAMPAIGNPULSE_GRAFANA_BIND=0.0.0.0", "CAMPAIGNPULSE_PUSH_BIND=0.0.0.0"},
	}
	for name, env := range envs {
		t.Run(name, func(t *testing.T) {
			p := loadProject(t, env...)
			if name == "defaults" {
				// The opt-in profiles too, except Caddy, whose job is to face the internet.
				all := loadAll(t)
				for _, svc := range []string{"simulator", "mongo-express"} {
					p.Services[svc] = service(t, all, svc)
				}
			}
			for svcName, s := range p.Services {
				for _, port := range s.Ports {
					public := port.HostIP == "" || port.HostIP == "0.0.0.0" || port.HostIP == "::"
					if slices.Contains(dataStores, svcName) && port.Published != "" {
						if public {
							t.Errorf("%s: port %s published on all interfaces", svcName, port.Published)
						} else if !strings.HasPrefix(port.HostIP, "127.") {
							t.Errorf("%s: port %s published on %s, want loopback or nothing", svcName, port.Published, port.HostIP)
						}
					}
					if name == "defaults" && public {
						t.Errorf("%s: port %s public by default; bind 127.0.0.1 unless the operator opts in", svcName, port.Published)
					}
				}
			}
			for _, ds := range dataStores {
				for netName := range service(t, p, ds).Networks {
					if !p.Networks[netName].Internal {
						t.Errorf("%s: on network %q, which is not internal", ds, netName)
					}
				}
			}
		})
	}
}

func TestDataLivesInNamedVolumes(t *testing.T) {
	p := loadProject(t)
	cases := []struct{ service, target string }{
		{"kafka", "/var/lib/kafka/data"},
		{"mongo", "/data/db"},
		{"prometheus", "/prometheus"},
		{"grafana", "/var/lib/grafana"},
	}
	for _, tc := range cases {
		v := mount(service(t, p, tc.service), tc.target)
		if v == nil {
			t.Errorf("%s: nothing mounted at %s", tc.service, tc.target)
			continue
		}
		if v.Type != types.VolumeTypeVolume {
			t.Errorf("%s: %s is a %s mount, want a named volume", tc.service, tc.target, v.Type)
			continue
		}
		if _, ok := p.Volumes[v.Source]; !ok {
			t.Errorf("%s: volume %q not declared at top level", tc.service, v.Source)
		}
	}
	kafka := service(t, p, "kafka")
	if dir := env(kafka, "KAFKA_LOG_DIRS"); dir != "/var/lib/kafka/data" {
		t.Errorf("kafka: KAFKA_LOG_DIRS=%q is not the volume (the image default is under /tmp)", dir)
	}
}

func TestGrafanaLoadsOnlyOurUnsignedPlugin(t *testing.T) {
	p := loadProject(t)
	g := service(t, p, "grafana")
	if got := env(g, "GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"); got != pluginID {
		t.Errorf("GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=%q, want exactly %q", got, pluginID)
	}
	for k, v := range g.Environment {
		if strings.HasPrefix(k, "GF_DEFAULT_APP_MODE") && v != nil && *v == "development" {
			t.Errorf("grafana runs in development mode, which loads every unsigned plugin")
		}
	}
	cases := []struct{ target, sourceSuffix string }{
		{pluginTarget, filepath.Join("grafana-plugin", "dist")},
		{"/etc/campaignpulse/provisioning", "provisioning"}, // copied into the tmpfs by start.sh
		{"/var/lib/grafana/dashboards", "dashboards"},
	}
	for _, tc := range cases {
		v := mount(g, tc.target)
		switch {
		case v == nil:
			t.Errorf("grafana: nothing mounted at %s", tc.target)
		case v.Type != types.VolumeTypeBind || !strings.HasSuffix(v.Source, tc.sourceSuffix):
			t.Errorf("grafana: %s mounts %s %q, want a bind of ./%s", tc.target, v.Type, v.Source, tc.sourceSuffix)
		case !v.ReadOnly:
			t.Errorf("grafana: %s is writable, want read-only", tc.target)
		}
	}
	if env(g, "GF_SECURITY_ADMIN_PASSWORD") != "" || env(g, "GF_SECURITY_ADMIN_PASSWORD__FILE") == "" {
		t.Errorf("grafana: admin password must come from a secret file (GF_SECURITY_ADMIN_PASSWORD__FILE)")
	}
	if env(g, "GF_SECURITY_SECRET_KEY__FILE") == "" {
		t.Errorf("grafana: secret_key left at its well-known default")
	}
}

// TestSecretsComeFromFiles checks that every token and password reaches a container as a granted
// secret file, never as an environment value (env leaks into logs and `docker inspect`).
func TestSecretsComeFromFiles(t *testing.T) {
	p := loadAll(t)
	secretish := regexp.MustCompile(`(?i)(TOKEN|PASSWORD|SECRET|_KEY)$`)
	for name, s := range p.Services {
		granted := map[string]bool{}
		for _, sec := range s.Secrets {
			granted[sec.Source] = true
		}
		for k, v := range s.Environment {
			if secretish.MatchString(k) {
				t.Errorf("%s: %s carries a secret in the environment; use %s_FILE", name, k, k)
			}
			if !strings.HasSuffix(k, "_FILE") || v == nil {
				continue
			}
			sec, ok := strings.CutPrefix(*v, "/run/secrets/")
			if !ok {
				t.Errorf("%s: %s=%q is not a /run/secrets path", name, k, *v)
				continue
			}
			if !granted[sec] {
				t.Errorf("%s: %s reads secret %q, which the service is not granted", name, k, sec)
			}
		}
		for _, kv := range s.Environment {
			if kv != nil && regexp.MustCompile(`://[^/@\s]+:[^/@\s]+@`).MatchString(*kv) {
				t.Errorf("%s: a URI with an inline password in the environment", name)
			}
		}
	}
	wantFiles := map[string][]string{
		"ingest":    {"CAMPAIGNPULSE_APPSFLYER_TOKEN_FILE", "CAMPAIGNPULSE_PUSH_TOKEN_FILE"},
		"aggregate": {"CAMPAIGNPULSE_MONGO_PASSWORD_FILE"},
		"mongo":     {"MONGO_INITDB_ROOT_PASSWORD_FILE"},
	}
	for svc, keys := range wantFiles {
		s := service(t, p, svc)
		for _, k := range keys {
			if env(s, k) == "" {
				t.Errorf("%s: %s not set", svc, k)
			}
		}
	}
	root, _ := filepath.Abs("..")
	for name, sec := range p.Secrets {
		if sec.File == "" {
			t.Errorf("secret %s: not file-based", name)
			continue
		}
		rel, err := filepath.Rel(root, sec.File)
		if err != nil || !strings.HasPrefix(rel, filepath.Join("deploy", "secrets")+string(filepath.Separator)) {
			t.Errorf("secret %s: file %s outside deploy/secrets", name, sec.File)
		}
		if _, err := os.Stat(sec.File + ".example"); err != nil {
			t.Errorf("secret %s: no template %s.example: %v", name, rel, err)
		}
	}
}

var pinnedTag = regexp.MustCompile(`^[a-z0-9./_-]+:v?[0-9]+\.[0-9]+(\.[0-9]+)?(-[a-z0-9.-]+)?$`)

func TestImagesArePinned(t *testing.T) {
	p := loadAll(t)
	for name, s := range p.Services {
		if !pinnedTag.MatchString(s.Image) {
			t.Errorf("%s: image %q is not pinned to a version tag", name, s.Image)
		}
	}
}

func TestServicesAreBounded(t *testing.T) {
	p := loadAll(t)
	for name, s := range p.Services {
		if s.Deploy == nil || s.Deploy.Resources.Limits == nil ||
			s.Deploy.Resources.Limits.MemoryBytes == 0 || s.Deploy.Resources.Limits.NanoCPUs == 0 {
			t.Errorf("%s: needs deploy.resources.limits for memory and cpus", name)
		}
	}
	for name := range ourServices {
		s := service(t, p, name)
		if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") || !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
			t.Errorf("%s: want read_only, cap_drop ALL and no-new-privileges", name)
		}
		for k := range s.Environment {
			if !strings.HasPrefix(k, "CAMPAIGNPULSE_") {
				t.Errorf("%s: env %s does not follow CAMPAIGNPULSE_<SECTION>_<NAME>", name, k)
			}
		}
	}
}

func mount(s types.ServiceConfig, target string) *types.ServiceVolumeConfig {
	for i := range s.Volumes {
		if s.Volumes[i].Target == target {
			return &s.Volumes[i]
		}
	}
	return nil
}

func env(s types.ServiceConfig, key string) string {
	if v := s.Environment[key]; v != nil {
		return *v
	}
	return ""
}
