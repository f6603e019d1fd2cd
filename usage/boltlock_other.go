//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package usage

import (
	"os"
	"time"
)

// lockFile does nothing here: bbolt's own lock, taken right after the
// check, still keeps a second Reporter out.
func lockFile(*os.File, time.Duration) error { return nil }
