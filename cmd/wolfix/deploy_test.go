package main

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/wolfix/orders/internal/adapters/config"
)

// The deployment files cannot drift from the binary: every wolfix command they run must be a
// command of the CLI with no leftover arguments, every WOLFIX_* key they set must be a key of the
// configuration, and the configuration they give each process must pass validation.

// composeFile is the part of deploy/compose.yaml the test reads (anchors and merge keys resolved
// by the YAML decoder).
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
	} `yaml:"services"`
}

func TestComposeMatchesTheCLIAndConfig(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose composeFile
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	roles := map[string][]string{}
	for name, svc := range compose.Services {
		if svc.Image != "wolfix:latest" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			checkDeployedProcess(t, svc.Command, withComposeVariables(svc.Environment))
		})
		role := strings.Join(svc.Command, " ")
		roles[role] = append(roles[role], name)
		if role == "serve" && (svc.Environment["WOLFIX_RUN_RELAY"] != "false" || svc.Environment["WOLFIX_MIGRATE_ON_START"] != "false") {
			t.Errorf("%s: an API replica must run without relay and without migrating (the relay and migrate services do)", name)
		}
	}
	if len(roles["migrate up"]) != 1 || len(roles["serve"]) < 2 || len(roles["relay"]) != 1 {
		t.Errorf("services by command: %v; want one migrate up, at least two serve, one relay", roles)
	}
}

func TestSystemdUnitsMatchTheCLIAndConfig(t *testing.T) {
	dir := filepath.Join("..", "..", "deploy", "systemd")
	env := readEnvFile(t, filepath.Join(dir, "wolfix.env"))
	units, err := filepath.Glob(filepath.Join(dir, "*.service"))
	if err != nil || len(units) != 3 {
		t.Fatalf("units %v (%v); want serve, relay and migrate", units, err)
	}
	for _, unit := range units {
		t.Run(filepath.Base(unit), func(t *testing.T) {
			unitEnv := map[string]string{}
			for k, v := range env {
				unitEnv[k] = v
			}
			var command []string
			for _, line := range readLines(t, unit) {
				if v, ok := strings.CutPrefix(line, "Environment="); ok {
					k, val, _ := strings.Cut(v, "=")
					unitEnv[k] = val
				}
				if v, ok := strings.CutPrefix(line, "ExecStart=/usr/local/bin/wolfix "); ok {
					command = strings.Fields(v)
				}
			}
			checkDeployedProcess(t, command, unitEnv)
		})
	}
}

// checkDeployedProcess checks one process of a deployment file: its command and its environment.
func checkDeployedProcess(t *testing.T, command []string, env map[string]string) {
	t.Helper()
	if len(command) == 0 {
		t.Fatal("no wolfix command")
	}
	root := (&cli{}).rootCommand()
	cmd, rest, err := root.Find(command)
	if err != nil || cmd == root || len(rest) > 0 || (!cmd.Runnable()) {
		t.Errorf("command %q is not a wolfix command (found %q, left %q, %v)", command, cmd.CommandPath(), rest, err)
	}
	brokersRegistered.Do(registerBrokers)
	providersRegistered.Do(registerPaymentProviders)
	keys := configKeys()
	for k := range env {
		if strings.HasPrefix(k, "WOLFIX_") && !slices.Contains(keys, k) {
			t.Errorf("%s is not a configuration key", k)
		}
	}
	for _, k := range keys {
		t.Setenv(k, "") // only what the file sets, over an empty config file
		os.Unsetenv(k)
	}
	t.Setenv("WOLFIX_CONFIG", filepath.Join(t.TempDir(), "none.yaml"))
	if err := os.WriteFile(os.Getenv("WOLFIX_CONFIG"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		if k != "WOLFIX_CONFIG" {
			t.Setenv(k, v)
		}
	}
	if _, err := config.Load(); err != nil {
		t.Errorf("the configuration it gives does not validate: %v", err)
	}
}

// configKeys are the WOLFIX_* environment variables of the configuration.
func configKeys() []string {
	var keys []string
	typ := reflect.TypeOf(config.Config{})
	for i := range typ.NumField() {
		if k := typ.Field(i).Tag.Get("env"); k != "" {
			keys = append(keys, k)
		}
	}
	return append(keys, "WOLFIX_CONFIG")
}

// composeVariable is ${NAME:?message} or ${NAME}: compose fills it from the operator's shell.
var composeVariable = regexp.MustCompile(`\$\{([A-Z_]+)(:\?[^}]*)?\}`)

// withComposeVariables fills compose's variables with stand-ins of the right shape.
func withComposeVariables(env map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = composeVariable.ReplaceAllStringFunc(v, func(string) string { return strings.Repeat("x", 40) })
	}
	return out
}

func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, line := range readLines(t, path) {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			env[k] = v
		}
	}
	return env
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	return lines
}
