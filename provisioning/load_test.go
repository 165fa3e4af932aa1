package provisioning_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"go.yaml.in/yaml/v4"
)

// Paths relative to this package's directory (go test runs tests there).
const (
	repoRoot       = ".."
	datasourcesDir = "datasources"
	providersDir   = "dashboards"
	alertingDir    = "alerting"
	dashboardsDir  = "../dashboards"
	pluginJSON     = "../grafana-plugin/src/plugin.json"
	makefile       = "../Makefile"
	typesTS        = "../grafana-plugin/src/types.ts"
	exprUID        = "__expr__"
	promUID        = "prometheus" // the provisioned Prometheus datasource
	metricsDoc     = "../docs/metrics.md"
)

// grafanaEnv is the environment docker-compose.yml gives Grafana, for the
// $VAR references Grafana expands in provisioning files.
var grafanaEnv = map[string]string{"CAMPAIGNPULSE_TIMEZONE": "UTC"}

// expandEnv expands $VAR, ${VAR} and $__env{VAR} as Grafana's provisioning
// does; $__file{...} is left alone.
func expandEnv(v string) string {
	return envRef.ReplaceAllStringFunc(v, func(ref string) string {
		name := envRef.FindStringSubmatch(ref)
		return grafanaEnv[name[1]+name[2]+name[3]]
	})
}

var envRef = regexp.MustCompile(`\$__env\{([A-Za-z0-9_]+)\}|\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z][A-Za-z0-9_]*)`)

// expandedJSONData is a datasource's jsonData after Grafana's expansion.
func expandedJSONData(raw map[string]any) map[string]any {
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			v = expandEnv(s)
		}
		out[k] = v
	}
	return out
}

// uidPattern is Grafana's rule for datasource, dashboard and rule UIDs
// (pkg/util/shortid_generator.go); longer UIDs have put Grafana into a
// restart loop.
var uidPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,40}$`)

type dsRef struct {
	Type string `json:"type" yaml:"type"`
	UID  string `json:"uid" yaml:"uid"`
}

// The structs below list the keys Grafana's provisioning reads
// (pkg/services/provisioning/...); they are decoded with KnownFields, so a
// misspelled key fails here instead of being ignored by Grafana.
type datasourceFile struct {
	APIVersion  int  `yaml:"apiVersion"`
	Prune       bool `yaml:"prune"`
	Datasources []struct {
		Name           string            `yaml:"name"`
		UID            string            `yaml:"uid"`
		Type           string            `yaml:"type"`
		Access         string            `yaml:"access"`
		OrgID          int               `yaml:"orgId"`
		IsDefault      bool              `yaml:"isDefault"`
		Editable       bool              `yaml:"editable"`
		URL            string            `yaml:"url"`
		JSONData       map[string]any    `yaml:"jsonData"`
		SecureJSONData map[string]string `yaml:"secureJsonData"`
	} `yaml:"datasources"`
}

type providerFile struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name                  string `yaml:"name"`
		OrgID                 int    `yaml:"orgId"`
		Type                  string `yaml:"type"`
		Folder                string `yaml:"folder"`
		FolderUID             string `yaml:"folderUid"`
		DisableDeletion       bool   `yaml:"disableDeletion"`
		AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
		UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
		Options               struct {
			Path                      string `yaml:"path"`
			FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

type alertFile struct {
	APIVersion int `yaml:"apiVersion"`
	Groups     []struct {
		OrgID    int         `yaml:"orgId"`
		Name     string      `yaml:"name"`
		Folder   string      `yaml:"folder"`
		Interval string      `yaml:"interval"`
		Rules    []alertRule `yaml:"rules"`
	} `yaml:"groups"`
	ContactPoints []struct {
		OrgID     int    `yaml:"orgId"`
		Name      string `yaml:"name"`
		Receivers []struct {
			UID                   string         `yaml:"uid"`
			Type                  string         `yaml:"type"`
			Settings              map[string]any `yaml:"settings"`
			DisableResolveMessage bool           `yaml:"disableResolveMessage"`
		} `yaml:"receivers"`
	} `yaml:"contactPoints"`
	Policies []policy `yaml:"policies"`
}

type policy struct {
	OrgID          int        `yaml:"orgId"`
	Receiver       string     `yaml:"receiver"`
	GroupBy        []string   `yaml:"group_by"`
	ObjectMatchers [][]string `yaml:"object_matchers"`
	GroupWait      string     `yaml:"group_wait"`
	GroupInterval  string     `yaml:"group_interval"`
	RepeatInterval string     `yaml:"repeat_interval"`
	Continue       bool       `yaml:"continue"`
	Routes         []policy   `yaml:"routes"`
}

type alertRule struct {
	UID          string            `yaml:"uid"`
	Title        string            `yaml:"title"`
	Condition    string            `yaml:"condition"`
	For          string            `yaml:"for"`
	NoDataState  string            `yaml:"noDataState"`
	ExecErrState string            `yaml:"execErrState"`
	DashboardUID string            `yaml:"dashboardUid"`
	PanelID      int               `yaml:"panelId"`
	Labels       map[string]string `yaml:"labels"`
	Annotations  map[string]string `yaml:"annotations"`
	Data         []alertNode       `yaml:"data"`
}

type alertNode struct {
	RefID             string `yaml:"refId"`
	QueryType         string `yaml:"queryType"`
	DatasourceUID     string `yaml:"datasourceUid"`
	RelativeTimeRange *struct {
		From int64 `yaml:"from"`
		To   int64 `yaml:"to"`
	} `yaml:"relativeTimeRange"`
	Model map[string]any `yaml:"model"`
}

type dashboard struct {
	file          string
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Refresh       string `json:"refresh"`
	Timezone      string `json:"timezone"`
	Time          struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"time"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type variable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Datasource *dsRef          `json:"datasource"`
	Query      json.RawMessage `json:"query"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
	Refresh    int             `json:"refresh"`
}

type panel struct {
	ID         int               `json:"id"`
	Type       string            `json:"type"`
	Title      string            `json:"title"`
	Datasource *dsRef            `json:"datasource"`
	TimeFrom   string            `json:"timeFrom"`
	Targets    []json.RawMessage `json:"targets"`
	Panels     []panel           `json:"panels"` // collapsed rows
	Options    struct {
		SortBy []struct {
			DisplayName string `json:"displayName"`
		} `json:"sortBy"`
	} `json:"options"`
	FieldConfig struct {
		Overrides []struct {
			Matcher struct {
				ID      string `json:"id"`
				Options any    `json:"options"`
			} `json:"matcher"`
		} `json:"overrides"`
	} `json:"fieldConfig"`
}

// allPanels flattens rows.
func (d *dashboard) allPanels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

func files(t *testing.T, dir string, exts ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && slices.Contains(exts, filepath.Ext(e.Name())) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %v files in %s", exts, dir)
	}
	return out
}

// readYAML decodes strictly: a misspelled key is an error here rather
// than a setting Grafana silently ignores.
func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

type world struct {
	datasources map[string]string // uid -> type
	dsFiles     []datasourceFile
	providers   []providerFile
	alerts      []alertFile
	dashboards  []*dashboard
}

func load(t *testing.T) *world {
	t.Helper()
	w := &world{datasources: map[string]string{}}
	for _, f := range files(t, datasourcesDir, ".yaml", ".yml") {
		var df datasourceFile
		readYAML(t, f, &df)
		w.dsFiles = append(w.dsFiles, df)
		for _, ds := range df.Datasources {
			if _, dup := w.datasources[ds.UID]; dup {
				t.Errorf("%s: datasource uid %q provisioned twice", f, ds.UID)
			}
			w.datasources[ds.UID] = ds.Type
		}
	}
	for _, f := range files(t, providersDir, ".yaml", ".yml") {
		var pf providerFile
		readYAML(t, f, &pf)
		w.providers = append(w.providers, pf)
	}
	for _, f := range files(t, alertingDir, ".yaml", ".yml") {
		var af alertFile
		readYAML(t, f, &af)
		w.alerts = append(w.alerts, af)
	}
	for _, f := range files(t, dashboardsDir, ".json") {
		d := &dashboard{file: filepath.Base(f)}
		readJSON(t, f, d)
		w.dashboards = append(w.dashboards, d)
	}
	return w
}

// targetModel splits a panel target or alert model into the keys Grafana
// adds to every query and the plugin's own query model.
func targetModel(raw map[string]any) (model map[string]any, ds *dsRef) {
	model = map[string]any{}
	for k, v := range raw {
		switch k {
		case "refId", "hide", "key", "intervalMs", "maxDataPoints", "datasourceId":
		case "datasource":
			b, _ := json.Marshal(v)
			ds = &dsRef{}
			_ = json.Unmarshal(b, ds)
		default:
			model[k] = v
		}
	}
	return model, ds
}
