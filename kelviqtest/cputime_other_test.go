//go:build !unix

package kelviqtest

import "time"

// cpuTime is not measured here; the req/cpu-s metric is then left out.
func cpuTime() time.Duration { return 0 }
