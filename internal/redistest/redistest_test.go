package redistest

import (
	"testing"
)

func TestStartKillRestart(t *testing.T) {
	s := Start(t)
	if _, err := serverPID(s.Addr); err != nil {
		t.Fatalf("started server does not answer: %v", err)
	}
	s.Kill()
	if _, err := serverPID(s.Addr); err == nil {
		t.Fatal("killed server still answers")
	}
	s.Kill() // twice is fine
	s.Restart(t)
	if _, err := serverPID(s.Addr); err != nil {
		t.Fatalf("restarted server does not answer: %v", err)
	}
}

func TestMissingBinarySkipsOrFails(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "")
	var skipped bool
	ft := &fakeTB{TB: t, onSkip: func() { skipped = true }}
	func() {
		defer func() { _ = recover() }()
		Start(ft)
	}()
	if !skipped {
		t.Fatal("without redis-server and CI unset, Start did not skip")
	}
	t.Setenv("CI", "true")
	var failed bool
	ft = &fakeTB{TB: t, onFatal: func() { failed = true }}
	func() {
		defer func() { _ = recover() }()
		Start(ft)
	}()
	if !failed {
		t.Fatal("without redis-server and CI=true, Start did not fail")
	}
}

// fakeTB records Skip and Fatal instead of ending the real test; it stops the
// caller with a panic as runtime.Goexit would.
type fakeTB struct {
	testing.TB
	onSkip, onFatal func()
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Skip(args ...any)      { f.onSkip(); panic("skip") }
func (f *fakeTB) Fatal(args ...any)     { f.onFatal(); panic("fatal") }
func (f *fakeTB) Fatalf(string, ...any) { f.onFatal(); panic("fatal") }
