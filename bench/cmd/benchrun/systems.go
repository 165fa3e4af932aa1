package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one engine (or store) process started by the harness.
type proc struct {
	name     string
	cmd      *exec.Cmd
	log      *os.File
	ready    chan time.Time // receives when the engine reports it consumes
	warm     chan time.Time // receives when the engine reports its first batch done (Spark), else = ready
	warmLine string
	done     chan struct{}
	err      error
	httpPort int // ours: its HTTP endpoints (readiness, metrics)
}

// startProc runs argv with its output in logPath. readyLine, when set, is a
// stdout prefix followed by nothing else of interest: the first line
// starting with it marks the engine ready.
func startProc(name, logPath string, env []string, readyLine string, argv ...string) (*proc, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		lf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: lf, ready: make(chan time.Time, 1), warm: make(chan time.Time, 1), done: make(chan struct{}), warmLine: warmLine(name)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(lf, line)
			if readyLine != "" && !signalled && strings.HasPrefix(line, readyLine) {
				signalled = true
				p.ready <- time.Now()
			}
			if p.warmLine != "" && strings.HasPrefix(line, p.warmLine) {
				select {
				case p.warm <- time.Now():
				default:
				}
			}
		}
		_, _ = io.Copy(lf, out)
	}()
	go func() {
		wg.Wait()
		p.err = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM to the process group and SIGKILLs it after grace.
func (p *proc) stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		<-p.done
	}
}

// warmLine is the stdout prefix an engine prints once its first batch is
// done; only Spark has one (its first micro-batch plans the queries).
func warmLine(name string) string {
	if name == "spark" {
		return "spark: warm"
	}
	return ""
}

// waitWarm waits, after waitReady, until an engine with a warm line printed
// it.
func (p *proc) waitWarm(ctx context.Context) error {
	if p.warmLine == "" {
		return nil
	}
	select {
	case <-p.warm:
		return nil
	case <-p.done:
		return fmt.Errorf("%s exited before its first batch (%v), see %s", p.name, p.err, p.log.Name())
	case <-ctx.Done():
		return fmt.Errorf("%s: no first batch: %w (see %s)", p.name, ctx.Err(), p.log.Name())
	}
}

// waitReady waits for the ready signal, the process's exit or ctx.
func (p *proc) waitReady(ctx context.Context) (time.Time, error) {
	select {
	case t := <-p.ready:
		return t, nil
	case <-p.done:
		return time.Time{}, fmt.Errorf("%s exited before it was ready (%v), see %s", p.name, p.err, p.log.Name())
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("%s not ready: %w (see %s)", p.name, ctx.Err(), p.log.Name())
	}
}

// pollReady turns an HTTP readiness endpoint answering 200 into the ready
// signal.
func (p *proc) pollReady(url string) {
	go func() {
		for {
			select {
			case <-p.done:
				return
			default:
			}
			resp, err := http.Get(url)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					p.ready <- time.Now()
					return
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// engine starts one engine for one run.
type engine interface {
	// start launches the engine on a fresh consumer identity; run names it
	// uniquely (group, application id, checkpoint directory).
	start(run string) (*proc, error)
}

// ours is bin/campaignpulse aggregate, exactly as production runs it, with
// a MongoDB-protocol store.
type ours struct {
	cfg      *config
	mongoURI string
	extra    []string
}

func (o *ours) start(run string) (*proc, error) { return o.startNamed(run, run) }

// startNamed starts an aggregator of run (group and database) logging to
// logName.
func (o *ours) startNamed(run, logName string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// Each run is a new deployment: its own de-duplication changelog topic
	// (the aggregator creates it) and state directory.
	changelog := "dedup_changelog_" + run
	argv := append([]string{o.cfg.binary, "aggregate",
		"--kafka.brokers", o.cfg.brokers,
		"--kafka.group", "bench-" + run,
		"--kafka.changelog-topic", changelog,
		"--aggregate.state-dir", filepath.Join(o.cfg.work, logName+"-state"),
		"--mongo.uri", o.mongoURI,
		"--mongo.database", dbName(run),
		"--http.addr", "127.0.0.1:" + strconv.Itoa(port),
	}, o.extra...)
	p, err := startProc("ours", filepath.Join(o.cfg.work, logName+".log"), nil, "", argv...)
	if err != nil {
		return nil, err
	}
	p.httpPort = port
	p.pollReady(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
	return p, nil
}

// spark is the PySpark Structured Streaming job.
type spark struct{ cfg *config }

func (s *spark) start(run string) (*proc, error) {
	jars, err := filepath.Glob(filepath.Join(s.cfg.sparkJars, "*.jar"))
	if err != nil || len(jars) == 0 {
		return nil, fmt.Errorf("no connector jars in %s (run make bench-setup)", s.cfg.sparkJars)
	}
	cp := filepath.Join(s.cfg.work, run+"-checkpoint")
	_ = os.RemoveAll(cp)
	return startProc("spark", filepath.Join(s.cfg.work, run+".log"), nil, "spark: started",
		s.cfg.python, s.cfg.sparkJob, "--brokers", s.cfg.brokers, "--jars", strings.Join(jars, ","),
		"--checkpoint", cp, "--partitions", strconv.Itoa(s.cfg.partitions),
		"--lateness-minutes", strconv.Itoa(int(s.cfg.lateness.Minutes())), "--master", fmt.Sprintf("local[%d]", s.cfg.cores))
}

// kstreams is the Kafka Streams application.
type kstreams struct {
	cfg       *config
	guarantee string
}

func (k *kstreams) start(run string) (*proc, error) {
	cp, err := os.ReadFile(k.cfg.kstreamsCP)
	if err != nil {
		return nil, fmt.Errorf("kafka streams classpath (run make bench-setup): %w", err)
	}
	state := filepath.Join(k.cfg.work, run+"-state")
	_ = os.RemoveAll(state)
	commit := "1000"
	if k.guarantee == "exactly_once_v2" {
		commit = "100" // the Kafka Streams default under exactly-once
	}
	return startProc("kstreams", filepath.Join(k.cfg.work, run+".log"), nil, "kstreams: running",
		"java", "-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", strings.TrimSpace(string(cp))+":"+k.cfg.kstreamsClasses,
		"io.campaignpulse.bench.WindowedCounts", k.cfg.brokers, "bench-"+run, state,
		strconv.Itoa(k.cfg.cores), k.guarantee, commit, strconv.Itoa(int(k.cfg.lateness.Minutes())))
}

var errSkipped = errors.New("skipped")
