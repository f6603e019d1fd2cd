//go:build race

package entitlements_test

// raceEnabled: the race detector slows the JSON decoder about sevenfold.
const raceEnabled = true
