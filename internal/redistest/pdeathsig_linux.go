package redistest

import "syscall"

// dieWithParent asks the kernel to SIGKILL redis-server when the thread that
// started it ends: the test binary, killed or not (Go does not end its
// threads while the process runs, but for a goroutine locked to one, which
// the tests do not use to start servers). It also gives the server its own
// process group, so that a terminal's ^C reaches it only through its parent.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
