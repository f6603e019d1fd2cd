package main_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBadUsageExitsTwo(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "outbox.db")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.db")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	_ = l.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no command"},
		{[]string{"frob", "-path", file}, `unknown command "frob"`},
		{[]string{"inspect"}, "-path FILE or -redis URL -prefix P"},
		{[]string{"inspect", "-path", file, "-redis", "redis://127.0.0.1:1"}, "-path FILE or -redis URL -prefix P"},
		{[]string{"inspect", "-redis", "redis://127.0.0.1:1"}, "-redis needs -prefix"},
		{[]string{"inspect", "-path", file, "-prefix", "p"}, "-prefix goes with -redis"},
		{[]string{"inspect", "-path", file, "extra"}, `unexpected argument "extra"`},
		{[]string{"inspect", "-nope", "-path", file}, "flag provided but not defined: -nope"},
		{[]string{"purge", "-path", file}, "give -all"},
		{[]string{"inspect", "-path", missing}, "cannot read the outbox file"},
		{[]string{"inspect", "-path", dir}, "not a regular file"},
		{[]string{"inspect", "-redis", "http://x:secretpw@h", "-prefix", "p"}, "not a Redis URL"},
		{[]string{"inspect", "-redis", "redis://:secretpw@" + dead, "-prefix", "p"}, "cannot reach Redis " + dead},
	} {
		r := run(t, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("kelviq-usage %q: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
		if strings.Contains(r.stderr+r.stdout, "secretpw") {
			t.Errorf("kelviq-usage %q printed the Redis password: %s", tc.args, r.stderr)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("inspect of a missing file created it (%v)", err)
	}
	if r := run(t, "-h"); r.code != 0 || !strings.Contains(r.stdout, "usage: kelviq-usage") {
		t.Errorf("-h: exit %d, %q", r.code, r.stdout)
	}
}

// A file that is not a bbolt outbox is named as unreadable.
func TestUnreadableFileExitsTwo(t *testing.T) {
	file := filepath.Join(t.TempDir(), "outbox.db")
	if err := os.WriteFile(file, []byte(strings.Repeat("not bbolt ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runWant(t, 2, "inspect", "-path", file)
	if !strings.Contains(r.stderr, file) {
		t.Fatalf("the error does not name the file: %s", r.stderr)
	}
}
