package realkafka

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	script, err := findScript()
	if err != nil {
		t.Fatalf("findScript: %v", err)
	}
	good := func() Options {
		return Options{
			Dir: t.TempDir(), Port: 19092, ControllerPort: 19093, Script: script,
			StartTimeout: time.Minute, StopTimeout: time.Minute, Heap: "-Xmx256m",
		}
	}
	cases := []struct {
		name    string
		mutate  func(*Options)
		wantErr string
	}{
		{"defaults are valid", func(*Options) {}, ""},
		{"missing script", func(o *Options) { o.Script = "/nonexistent/kafka.sh" }, FlagScript},
		{"relative dir", func(o *Options) { o.Dir = "data" }, FlagDir},
		{"port out of range", func(o *Options) { o.Port = 70000 }, FlagPort + " 70000"},
		{"controller port zero", func(o *Options) { o.ControllerPort = -1 }, FlagControllerPort},
		{"same ports", func(o *Options) { o.ControllerPort = o.Port }, "both 19092"},
		{"tiny start timeout", func(o *Options) { o.StartTimeout = time.Millisecond }, FlagStartTimeout},
		{"tiny stop timeout", func(o *Options) { o.StopTimeout = 0 }, FlagStopTimeout},
		{"config key with equals", func(o *Options) { o.ExtraConfig = map[string]string{"a=b": "c"} }, "ExtraConfig"},
		{"config value with newline", func(o *Options) { o.ExtraConfig = map[string]string{"a": "b\nc=d"} }, "ExtraConfig"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := good()
			tc.mutate(&o)
			err := o.validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("validate: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("validate error = %v, want it to name %q", err, tc.wantErr)
			}
		})
	}
}

func TestDefaultsAndProvisionPickDistinctFreePorts(t *testing.T) {
	o := Options{Dir: t.TempDir()}.WithDefaults()
	if err := o.provision(); err != nil {
		t.Fatalf("provision: %v", err)
	}
	if err := o.validate(); err != nil {
		t.Fatalf("validate after defaults: %v", err)
	}
	if o.StartTimeout != 90*time.Second || o.StopTimeout != time.Minute || o.Heap != "-Xms256m -Xmx512m" {
		t.Fatalf("defaults not applied: %+v", o)
	}
}

func TestExtraConfigIsSortedProperties(t *testing.T) {
	o := Options{ExtraConfig: map[string]string{"num.partitions": "6", "auto.create.topics.enable": "true"}}
	want := "auto.create.topics.enable=true\nnum.partitions=6\n"
	if got := o.extraConfig(); got != want {
		t.Fatalf("extraConfig = %q, want %q", got, want)
	}
}

func TestScriptOverrideAndMissingTools(t *testing.T) {
	t.Setenv(scriptEnv, "/somewhere/kafka.sh")
	if got, err := findScript(); err != nil || got != "/somewhere/kafka.sh" {
		t.Fatalf("findScript with %s = %q, %v", scriptEnv, got, err)
	}
	t.Setenv("PATH", t.TempDir())
	if why := Missing(); !strings.Contains(why, "java not found") {
		t.Fatalf("Missing() with empty PATH = %q, want it to name java", why)
	}
}
