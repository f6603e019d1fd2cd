package usage

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// ErrCorrupt is wrapped by the error NewReporter returns when the outbox
// file is damaged beyond what it can salvage, or is not an outbox file at
// all (another program's file, a newer bbolt format); the error names the
// file, which is left as it was.
var ErrCorrupt = errors.New("usage: the outbox file is damaged or not an outbox file")

// prepareOutboxFile runs before bbolt opens path. A missing or empty file
// is left for bbolt to create; a whole one is left untouched (not even
// rewritten). A bbolt file whose structure is damaged is salvaged: its
// intact records go into a fresh file at path, and the damaged one is kept
// beside it as path.corrupt-<UTC time>. A file that no meta page says is
// bbolt is not ours to replace: the error wraps ErrCorrupt.
func prepareOutboxFile(path string, cfg *config) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("usage: opening the outbox file %s: %w", path, err)
	case fi.IsDir():
		return fmt.Errorf("usage: the outbox path %s is a directory, not a file", path)
	case !fi.Mode().IsRegular():
		// A FIFO would block the read forever.
		return fmt.Errorf("usage: the outbox path %s is not a regular file (%v)", path, fi.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("usage: opening the outbox file %s: %w", path, err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return fmt.Errorf("usage: opening the outbox file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("usage: the outbox path %s is not a regular file (%v)", path, fi.Mode().Type())
	}
	// The lock bbolt takes: a Reporter using the file is writing it, and
	// the check would read a moving file.
	if err := lockFile(f, cfg.lockTimeout); err != nil {
		return fmt.Errorf("%w: %s (could not lock it within %v: %v)", ErrLocked, path, cfg.lockTimeout, err)
	}
	v, why := checkBolt(f, fi.Size())
	switch v {
	case boltOK, boltEmpty:
		return nil
	case boltNotBolt, boltNewer:
		return fmt.Errorf("%w: %s: %v; it is left as it is", ErrCorrupt, path, why)
	}
	s := salvageBolt(f, fi.Size())
	aside, err := replaceDamaged(path, fi.Mode().Perm(), s)
	if err != nil {
		return fmt.Errorf("%w: %s: %v; salvaging it failed: %v", ErrCorrupt, path, why, err)
	}
	log := cfg.logger
	if log == nil {
		log = slog.Default() // a lost report must not go unseen
	}
	log.Error("usage: the outbox file was damaged; its readable records were moved to a fresh file, and the damaged one kept aside",
		"path", path, "damage", why.Error(), "kept_at", aside,
		"records", len(s.outbox), "dead_letters", len(s.dead),
		"lost_pages", s.lostPages, "lost_entries", s.lostElements)
	return nil
}

// replaceDamaged writes s into a fresh file and puts it at path, keeping
// the damaged file at a new name beside it; it returns that name. The
// steps are ordered so that a crash at any point leaves path either the
// damaged file (salvaged again at the next start) or the fresh one, and the
// damaged one never lost.
func replaceDamaged(path string, perm os.FileMode, s *salvage) (string, error) {
	// Through a symbolic link, the file it names is the one replaced (and
	// kept aside), not the link.
	path, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	tmp := path + ".salvage"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err // (a leftover of a salvage a crash interrupted)
	}
	if err := writeSalvage(tmp, s); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Chmod(tmp, perm); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	aside, err := keepAside(path)
	if err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	syncDir(filepath.Dir(path))
	return aside, nil
}

// keepAside gives the file at path a second name, path.corrupt-<UTC time>,
// never one in use: a hard link where the file system has them (the name
// path is then replaced by a rename), else a copy.
func keepAside(path string) (string, error) {
	stamp := time.Now().UTC().Format("20060102T150405.000000000Z")
	for i := 0; ; i++ {
		aside := path + ".corrupt-" + stamp
		if i > 0 {
			aside += fmt.Sprintf("-%d", i)
		}
		err := os.Link(path, aside)
		if err == nil {
			syncDir(filepath.Dir(path))
			return aside, nil
		}
		if errors.Is(err, os.ErrExist) {
			if i >= 100 {
				return "", err
			}
			continue
		}
		// No hard links here: copy it, refusing a name in use.
		if cerr := copyNew(path, aside); cerr != nil {
			if errors.Is(cerr, os.ErrExist) && i < 100 {
				continue
			}
			return "", fmt.Errorf("keeping the damaged file aside: link: %v; copy: %w", err, cerr)
		}
		syncDir(filepath.Dir(path))
		return aside, nil
	}
}

func copyNew(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes the names in dir durable, where the system can: a crash
// right after would otherwise find the old names (both of which hold a
// whole file, damaged or fresh).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
