//go:build !race

package entitlements_test

const raceEnabled = false
