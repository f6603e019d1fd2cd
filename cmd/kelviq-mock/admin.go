package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/kelviq/kelviq-go/kelviqtest"
)

// adminPrefix starts the paths of the admin endpoint (-admin).
const adminPrefix = "/__kelviqtest/"

// adminMethods are the methods each admin path takes.
var adminMethods = map[string]string{"faults": "POST, DELETE", "reset": "POST"}

// maxAdminBody bounds an admin request's body.
const maxAdminBody = 64 << 10

// withAdmin serves the admin endpoint beside the fake:
//
//	POST   /__kelviqtest/faults  {"operation":"listCustomers","status":503,"times":3}
//	DELETE /__kelviqtest/faults  clears every fault
//	POST   /__kelviqtest/reset   faults cleared, state back to the seed
func withAdmin(h *kelviqtest.Handler, logf func(format string, args ...any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, adminPrefix) {
			h.ServeHTTP(w, r)
			return
		}
		status, body := admin(h, r)
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", adminMethods[strings.TrimPrefix(r.URL.Path, adminPrefix)])
		}
		logf("admin %s %s %d %s", r.Method, r.URL.Path, status, body["detail"])
		writeAdmin(w, status, body)
	})
}

func admin(h *kelviqtest.Handler, r *http.Request) (int, map[string]any) {
	route := r.Method + " " + strings.TrimPrefix(r.URL.Path, adminPrefix)
	switch route {
	case "POST faults":
		data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxAdminBody))
		if err != nil {
			return http.StatusBadRequest, map[string]any{"detail": "reading the body: " + err.Error()}
		}
		nf, err := decodeFaultRequest(data)
		if err == nil {
			err = h.SetFault(nf.operation, nf.fault)
		}
		if err != nil {
			return http.StatusBadRequest, map[string]any{"detail": err.Error()}
		}
		return http.StatusOK, map[string]any{"detail": "fault set on " + nf.operation}
	case "DELETE faults":
		h.ClearFaults()
		return http.StatusOK, map[string]any{"detail": "faults cleared"}
	case "POST reset":
		h.Reset()
		return http.StatusOK, map[string]any{"detail": "faults cleared, state back to the seed"}
	}
	// Any other method of an admin path (HEAD and OPTIONS too) is 405.
	if name := strings.TrimPrefix(r.URL.Path, adminPrefix); name == "faults" || name == "reset" {
		return http.StatusMethodNotAllowed, map[string]any{"detail": "method " + r.Method + " is not allowed on " + r.URL.Path + " (it takes " + adminMethods[name] + ")"}
	}
	return http.StatusNotFound, map[string]any{"detail": "no admin endpoint " + r.URL.Path + " (there are " + adminPrefix + "faults and " + adminPrefix + "reset)"}
}

func writeAdmin(w http.ResponseWriter, status int, body map[string]any) {
	data, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}
