package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The spec-drift workflow handles what an untrusted docs site serves: its
// report, its spec, and a client regenerated from that spec whose tests
// run in the job. These checks keep the workflow's defences from being
// edited away (actionlint does not know which data is hostile).
type workflowStep struct {
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

func driftWorkflowSteps(t *testing.T) []workflowStep {
	t.Helper()
	data, err := os.ReadFile("../../.github/workflows/spec-drift.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Permissions map[string]string `yaml:"permissions"`
		Jobs        map[string]struct {
			Steps []workflowStep `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("spec-drift.yml: %v", err)
	}
	if len(wf.Permissions) != 1 || wf.Permissions["contents"] != "read" {
		t.Errorf("workflow permissions %v: want contents: read only (jobs widen what they need)", wf.Permissions)
	}
	job, ok := wf.Jobs["drift"]
	if !ok || len(job.Steps) == 0 {
		t.Fatal("spec-drift.yml: no drift job with steps")
	}
	return job.Steps
}

// No ${{ }} expression in a run: script (values reach scripts through env,
// where no content can become shell code), and the checkout leaves no token
// behind for the regenerated client's tests.
func TestDriftWorkflowPassesNoExpressionIntoScripts(t *testing.T) {
	t.Parallel()
	steps := driftWorkflowSteps(t)
	checkouts := 0
	for _, s := range steps {
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q interpolates an expression into its script: pass it through env", s.Name)
		}
		if strings.HasPrefix(s.Uses, "actions/checkout@") {
			checkouts++
			if s.With["persist-credentials"] != "false" {
				t.Errorf("checkout with %v: want persist-credentials: false (the regenerated client's tests run in this job)", s.With)
			}
		}
		if s.Uses != "" && !regexp.MustCompile(`@[0-9a-f]{40}$`).MatchString(s.Uses) {
			t.Errorf("step %q uses %s: pin a full commit SHA", s.Name, s.Uses)
		}
	}
	if checkouts != 1 {
		t.Errorf("%d checkout steps, want 1", checkouts)
	}
}

// Every script whose log can quote the docs site (the report, the generator
// and the tests of the regenerated client) first stops workflow commands
// with a token of its own, so a line like "::add-mask::" or "::error::"
// in a page cannot act. The check step also keeps the bump to a known word
// before it reaches GITHUB_OUTPUT.
func TestDriftWorkflowStopsCommandsAroundUntrustedOutput(t *testing.T) {
	t.Parallel()
	quoting := map[string]bool{"Check for drift": false, "Regenerate the client": false, "Build and test": false}
	for _, s := range driftWorkflowSteps(t) {
		if _, ok := quoting[s.Name]; !ok {
			continue
		}
		quoting[s.Name] = true
		start := strings.Index(s.Run, `echo "::stop-commands::$stop"`)
		end := strings.Index(s.Run, `echo "::$stop::"`)
		if !strings.Contains(s.Run, `stop="stop-$(openssl rand -hex 16)"`) || start < 0 || end < 0 {
			t.Errorf("step %q does not stop workflow commands with a random token:\n%s", s.Name, s.Run)
			continue
		}
		for _, cmd := range []string{"kelviq-specdrift", "go generate", "make test"} {
			if i := strings.Index(s.Run, cmd); i >= 0 && i < start {
				t.Errorf("step %q runs %s before stopping workflow commands", s.Name, cmd)
			}
		}
		if s.Name == "Check for drift" {
			if i := strings.Index(s.Run, "::warning"); i < end {
				t.Errorf("step %q: its own ::warning must come after commands resume", s.Name)
			}
			if !strings.Contains(s.Run, "minor | patch | none) ;;") || !strings.Contains(s.Run, "*) bump=unknown ;;") {
				t.Errorf("step %q does not restrict the bump to a known word before GITHUB_OUTPUT", s.Name)
			}
		}
	}
	for name, seen := range quoting {
		if !seen {
			t.Errorf("no step %q in spec-drift.yml", name)
		}
	}
}
