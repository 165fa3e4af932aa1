package realkafka

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/settings"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/freeport"
)

// Flag names of a broker instance's settings.
const (
	FlagDir            = "broker.dir"
	FlagPort           = "broker.port"
	FlagControllerPort = "broker.controller-port"
	FlagScript         = "broker.script"
	FlagStartTimeout   = "broker.start-timeout"
	FlagStopTimeout    = "broker.stop-timeout"
	FlagHeap           = "broker.heap"
)

// Options configures one broker instance. The zero value is usable: every field has a default.
type Options struct {
	// Dir is the instance directory (config, data/, logs/, kafka.pid). Empty: a new directory
	// under os.TempDir(); ForTest uses t.TempDir().
	Dir string
	// Port is the client listener port on 127.0.0.1. 0: a free port.
	Port int
	// ControllerPort is the KRaft controller listener port. 0: a free port.
	ControllerPort int
	// Script is the path to scripts/kafka.sh. Empty: $CAMPAIGNPULSE_KAFKA_SCRIPT, else found by
	// walking up from the working directory, else relative to this package's source.
	Script string
	// ExtraConfig adds or overrides server.properties entries, e.g. {"num.partitions": "6"}.
	// Default: none.
	ExtraConfig map[string]string
	// StartTimeout bounds the wait for the broker to serve metadata.
	StartTimeout time.Duration
	// StopTimeout bounds the wait after SIGTERM before the script sends SIGKILL.
	StopTimeout time.Duration
	// Heap is the JVM heap flags.
	Heap string
}

const scriptEnv = "CAMPAIGNPULSE_KAFKA_SCRIPT"

// RegisterFlags registers the --broker.* settings of an instance; the defaults written here are
// the only ones. Empty and zero values are filled when the broker starts (provision).
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Dir, FlagDir, "", "instance directory (config, data, logs); empty = a new directory under the temp dir")
	fs.IntVar(&o.Port, FlagPort, 0, "client listener port on 127.0.0.1; 0 = a free port")
	fs.IntVar(&o.ControllerPort, FlagControllerPort, 0, "KRaft controller listener port; 0 = a free port")
	fs.StringVar(&o.Script, FlagScript, "", "path to scripts/kafka.sh; empty = $"+scriptEnv+", else found from the working directory")
	fs.DurationVar(&o.StartTimeout, FlagStartTimeout, 90*time.Second, "wait for the broker to serve metadata")
	fs.DurationVar(&o.StopTimeout, FlagStopTimeout, 60*time.Second, "wait after SIGTERM before the script sends SIGKILL")
	fs.StringVar(&o.Heap, FlagHeap, "-Xms256m -Xmx512m", "JVM heap flags")
}

// WithDefaults returns o with zero settings replaced by their defaults.
func (o Options) WithDefaults() Options {
	return settings.WithDefaults(o, (*Options).RegisterFlags)
}

// provision fills what a start picks for itself: the script, a new instance directory, free
// ports.
func (o *Options) provision() error {
	if o.Script == "" {
		s, err := findScript()
		if err != nil {
			return err
		}
		o.Script = s
	}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "campaignpulse-kafka-")
		if err != nil {
			return fmt.Errorf("create broker dir: %w", err)
		}
		o.Dir = d
	}
	var err error
	if o.Port == 0 {
		if o.Port, err = freeport.Port(); err != nil {
			return err
		}
	}
	if o.ControllerPort == 0 {
		if o.ControllerPort, err = freeport.Port(); err != nil {
			return err
		}
	}
	return nil
}

func (o *Options) validate() error {
	if _, err := os.Stat(o.Script); err != nil {
		return fmt.Errorf("%s %q: %w", FlagScript, o.Script, err)
	}
	if !filepath.IsAbs(o.Dir) {
		return fmt.Errorf("%s %q: must be absolute", FlagDir, o.Dir)
	}
	for name, p := range map[string]int{FlagPort: o.Port, FlagControllerPort: o.ControllerPort} {
		if p < 1 || p > 65535 {
			return fmt.Errorf("%s %d: must be 1..65535", name, p)
		}
	}
	if o.Port == o.ControllerPort {
		return fmt.Errorf("%s and %s are both %d", FlagPort, FlagControllerPort, o.Port)
	}
	if o.StartTimeout < time.Second {
		return fmt.Errorf("%s %s: must be at least 1s", FlagStartTimeout, o.StartTimeout)
	}
	if o.StopTimeout < time.Second {
		return fmt.Errorf("%s %s: must be at least 1s", FlagStopTimeout, o.StopTimeout)
	}
	for k, v := range o.ExtraConfig {
		if k == "" || strings.ContainsAny(k, "=\n") || strings.Contains(v, "\n") {
			return fmt.Errorf("realkafka ExtraConfig %q=%q: keys need no '=' or newline, values no newline", k, v)
		}
	}
	return nil
}

// extraConfig renders ExtraConfig as server.properties lines in a stable order.
func (o *Options) extraConfig() string {
	keys := make([]string, 0, len(o.ExtraConfig))
	for k := range o.ExtraConfig {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, o.ExtraConfig[k])
	}
	return b.String()
}

var errNoScript = errors.New("scripts/kafka.sh not found")

// findScript locates scripts/kafka.sh: the env override, then the working directory and its
// parents (go test runs in the package directory), then this file's checkout.
func findScript() (string, error) {
	if s := os.Getenv(scriptEnv); s != "" {
		return filepath.Abs(s)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			p := filepath.Join(d, "scripts", "kafka.sh")
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		p := filepath.Join(filepath.Dir(file), "..", "..", "..", "scripts", "kafka.sh")
		if _, err := os.Stat(p); err == nil {
			return filepath.Clean(p), nil
		}
	}
	return "", fmt.Errorf("%w (set %s)", errNoScript, scriptEnv)
}
