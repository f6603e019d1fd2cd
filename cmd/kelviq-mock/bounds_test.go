package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kelviq/kelviq-go/kelviqtest"
)

// The binary answers a body over -max-body with 413 and a JSON error,
// declared or not, and keeps serving.
func TestBinaryBodyLimit(t *testing.T) {
	p := startBinary(t, "-quiet", "-max-body", "1000")
	big := `{"customerId":"` + strings.Repeat("x", 2000) + `"}`
	status, hdr, body := mustCall(t, "POST", p.base+"/customers/", big)
	if status != 413 || hdr.Get("Content-Type") != "application/json" || body != `{"detail":"Request body too large: the limit is 1000 bytes."}` {
		t.Errorf("over the limit: %d %s %s", status, hdr.Get("Content-Type"), body)
	}
	if status, _, body := mustCall(t, "POST", p.base+"/customers/", `{"customerId":"cust_1"}`); status != 201 {
		t.Errorf("under the limit: %d %s", status, body)
	}

	// The default is 1 MiB: 10 MB declared is refused without being read.
	def := startBinary(t, "-quiet")
	conn := dial(t, def.base)
	fmt.Fprintf(conn, "POST /customers/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n", kelviqtest.ServerKey)
	res := readResponse(t, conn)
	if res.StatusCode != 413 {
		t.Errorf("10 MB declared: %d", res.StatusCode)
	}
}

func dial(t *testing.T, base string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func readResponse(t *testing.T, conn net.Conn) *http.Response {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	res, err := http.ReadResponse(bufioReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// A stalled upload is cut by -read-timeout, an idle keep-alive connection
// by -idle-timeout: the server ends the connection instead of holding it
// (and the body read so far) for ever.
func TestBinaryStalledUploadsAreCut(t *testing.T) {
	p := startBinary(t, "-quiet", "-read-timeout", "1s", "-idle-timeout", "1s")

	stalled := dial(t, p.base)
	fmt.Fprintf(stalled, "POST /customers/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 500000\r\n\r\n{\"customerId\":\"", kelviqtest.ServerKey)
	stalled.Write(bytes.Repeat([]byte("x"), 100_000)) // then nothing more
	if err := waitClosed(stalled); err != nil {
		t.Errorf("stalled upload: %v", err)
	}

	idle := dial(t, p.base)
	fmt.Fprintf(idle, "GET /orders/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", kelviqtest.ServerKey)
	br := bufioReader(idle)
	idle.SetReadDeadline(time.Now().Add(20 * time.Second))
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("keep-alive request: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("idle keep-alive connection: %v, want the server to close it (EOF)", err)
	}
}

// waitClosed reads until the server closes the connection (any answer it
// sends first is read and dropped). It fails after 20s: the server held
// the connection.
func waitClosed(conn net.Conn) error {
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("still open after 20s")
	}
	return nil // EOF or reset: closed
}

// BenchmarkMockPeakRSS measures the peak resident memory (VmHWM) of the
// kelviq-mock process, default flags, under 8 concurrent 10 MB uploads
// and 100 stalled ones; the goal is under 100 MB. Linux only (/proc).
//
//	declared:  the stalled uploads declare 10 MB and stall after 9 MiB
//	chunked:   they send no length and stall after 900 KiB, under the
//	           1 MiB limit: the worst case, held until -read-timeout
func BenchmarkMockPeakRSS(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs /proc")
	}
	for _, mode := range []string{"declared", "chunked"} {
		b.Run(mode, func(b *testing.B) {
			p := startBinary(b, "-quiet")
			pid := p.cmd.Process.Pid
			idle := procKB(b, pid, "VmRSS")
			var wg sync.WaitGroup
			conns := make(chan net.Conn, 100)
			for range 100 {
				wg.Go(func() {
					conn, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
					if err != nil {
						return
					}
					conns <- conn
					stallUpload(conn, mode)
				})
			}
			for range 8 {
				wg.Go(func() { upload(p.base, 10_000_000) })
			}
			wg.Wait()
			time.Sleep(200 * time.Millisecond)
			peak := procKB(b, pid, "VmHWM")
			close(conns)
			for c := range conns {
				c.Close()
			}
			b.ReportMetric(float64(idle)/1024, "idle-RSS-MB")
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// upload sends a body of n bytes with its length declared.
func upload(base string, n int) {
	body := io.MultiReader(strings.NewReader(`{"customerId":"`), io.LimitReader(repeatX{}, int64(n-18)), strings.NewReader(`"}`))
	req, _ := http.NewRequest("POST", base+"/customers/", body)
	req.ContentLength = int64(n)
	req.Header.Set("Authorization", "Bearer "+kelviqtest.ServerKey)
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

// stallUpload starts an upload and stops sending.
func stallUpload(conn net.Conn, mode string) {
	conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	hdr := "POST /customers/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kelviqtest.ServerKey + "\r\nContent-Type: application/json\r\n"
	if mode == "declared" {
		io.WriteString(conn, hdr+"Content-Length: 10000000\r\n\r\n")
		io.Copy(conn, io.LimitReader(repeatX{}, 9<<20))
		return
	}
	io.WriteString(conn, hdr+"Transfer-Encoding: chunked\r\n\r\n")
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	for range 900 / 32 {
		fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk)
	}
}

// repeatX reads as an endless run of 'x'.
type repeatX struct{}

func (repeatX) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// procKB reads a "<field>: N kB" line of /proc/<pid>/status.
func procKB(b testing.TB, pid int, field string) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
