package kelviq_test

import (
	"bufio"
	"context"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/kelviq/kelviq-go/kelviq"
)

// A server that announces a body near the limit and sends a few bytes of
// it makes the client allocate what it sent, not what it announced: one
// buffer of the announced length per call let a few bytes of headers cost
// 16 MiB each, across concurrent calls.
func TestAnnouncedLengthIsNotPreallocated(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16000000\r\n\r\n{\"results\":["))
			}()
		}
	}()
	c, err := kelviq.NewClient(kelviq.WithBaseURL("http://"+ln.Addr().String()), kelviq.WithServerKey(testServerKey), kelviq.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const calls = 5
	for range calls {
		_, err := c.ListCustomersWithResponse(context.Background(), nil)
		if err == nil || !strings.Contains(err.Error(), "listCustomers") {
			t.Fatalf("got %v, want an error naming listCustomers", err)
		}
	}
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > calls*2<<20 {
		t.Errorf("%d calls each answered with 12 bytes of an announced 16 MB allocated %d bytes", calls, grown)
	}
}
