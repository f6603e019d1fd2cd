package kelviq

import "runtime"

// Version is the version of this library, sent in the User-Agent header.
const Version = "0.1.0"

// userAgent is the User-Agent sent with every request: kelviq-go/<version>
// go<version>, followed by what WithUserAgent adds.
func userAgent(extra string) string {
	ua := "kelviq-go/" + Version + " " + runtime.Version()
	if extra != "" {
		ua += " " + extra
	}
	return ua
}
