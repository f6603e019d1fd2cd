//go:build !unix

package kelviqotel_test

import "time"

// cpuTime is not measured here: no cpu-ns/op metric.
func cpuTime() time.Duration { return 0 }
