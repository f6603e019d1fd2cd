//go:build unix

package kelviqotel_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the process has used so far, all
// threads: client and loopback server alike.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
