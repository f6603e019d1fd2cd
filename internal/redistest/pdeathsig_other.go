//go:build !linux

package redistest

import "syscall"

// dieWithParent: only Linux has a parent-death signal; elsewhere a SIGKILLed
// test binary leaves its redis-server running until the temp dir is cleaned.
func dieWithParent() *syscall.SysProcAttr { return nil }
