//go:build unix

package kelviqtest

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the process has used so far, all
// threads: client and fake alike in a loopback benchmark.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
