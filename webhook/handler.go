package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// HandlerFunc processes one verified event. Returning nil acknowledges the delivery
// (the handler answers 200); returning an error makes the handler answer 500, so kelviq
// delivers the event again later. ctx is the request's context.
type HandlerFunc func(ctx context.Context, e *Event) error

type handlerConfig struct {
	verify   verifyConfig
	maxBody  int64
	store    Store
	storeSet bool
	window   time.Duration
	logger   *slog.Logger
}

type handler struct {
	cfg handlerConfig
	fn  HandlerFunc
	// misconfigured, when set, is why every delivery is refused with 500.
	misconfigured error
}

// ErrMisconfigured is logged, and named in the 500 answer, by a handler
// built without a non-empty secret or without a callback: it refuses every
// delivery, because without a secret it would accept forged ones.
var ErrMisconfigured = errors.New("webhook: handler misconfigured")

// NewHandler returns an [http.Handler] for a kelviq webhook endpoint. For each request
// it:
//
//   - answers 405 to any method but POST;
//   - reads at most the body limit ([DefaultMaxBodyBytes], see [WithMaxBodyBytes]) and
//     answers 413 to a longer body, without reading the rest;
//   - verifies the delivery as [Verify] does, before parsing anything, with secret and
//     the [Option]s among opts, and answers 400 to missing or malformed headers or a
//     body that is not an event, 401 to a wrong signature or a timestamp out of
//     tolerance;
//   - answers 200 to a webhook-id it has already processed, without calling fn, and 503
//     to one still being processed (see [Store]; [WithStore], [WithDedupeWindow]);
//   - calls fn, then answers 200 if fn returned nil and 500 otherwise.
//
// Error answers are short plain text naming the reason; they never contain a secret, the
// body, or the error fn returned.
//
// The secret is one string, as for [Verify], because an endpoint has one secret nearly
// always; the extra secrets of a rotation are given with [WithSecrets], the same option
// Verify takes, so one option list serves both. If fn is nil or no secret is non-empty
// (an unset environment variable, say), NewHandler does not panic: the handler it
// returns answers every delivery 500 naming [ErrMisconfigured] and logs it, so kelviq
// keeps retrying while the configuration is fixed and no forged delivery is accepted.
func NewHandler(secret string, fn HandlerFunc, opts ...HandlerOption) http.Handler {
	h := &handler{fn: fn}
	if fn == nil {
		h.misconfigured = fmt.Errorf("%w: NewHandler was given a nil HandlerFunc", ErrMisconfigured)
	}
	for _, o := range opts {
		if o != nil {
			o.applyHandler(&h.cfg)
		}
	}
	h.cfg.verify.withDefaults(secret)
	hasSecret := false
	for _, s := range h.cfg.verify.secrets {
		hasSecret = hasSecret || s != ""
	}
	if !hasSecret {
		h.misconfigured = fmt.Errorf("%w: NewHandler was given no non-empty secret", ErrMisconfigured)
	}
	if h.cfg.maxBody <= 0 {
		h.cfg.maxBody = DefaultMaxBodyBytes
	}
	if h.cfg.window <= 0 {
		h.cfg.window = 2 * h.cfg.verify.tolerance
	}
	if !h.cfg.storeSet {
		h.cfg.store = NewMemoryStore(h.cfg.verify.now)
	}
	return h
}

// The handler's own rejections, before verification.
var (
	errMethod       = errors.New("webhook: method not allowed, use POST")
	errBodyTooLarge = errors.New("webhook: body too large")
	errBodyRead     = errors.New("webhook: cannot read body")
)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if h.misconfigured != nil {
		if h.cfg.logger != nil {
			h.cfg.logger.ErrorContext(ctx, "kelviq webhook refused", "error", h.misconfigured)
		}
		http.Error(w, h.misconfigured.Error(), http.StatusInternalServerError)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(ctx, w, r, http.StatusMethodNotAllowed, errMethod)
		return
	}
	if r.ContentLength > h.cfg.maxBody {
		h.reject(ctx, w, r, http.StatusRequestEntityTooLarge, errBodyTooLarge)
		return
	}
	src := r.Body
	if src == nil { // a client-side Request passed in directly, in a test
		src = http.NoBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, src, h.cfg.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			h.reject(ctx, w, r, http.StatusRequestEntityTooLarge, errBodyTooLarge)
		} else {
			h.reject(ctx, w, r, http.StatusBadRequest, errBodyRead)
		}
		return
	}

	d, err := h.cfg.verify.verify(body, r.Header)
	if err != nil {
		h.reject(ctx, w, r, verifyStatus(err), err)
		return
	}
	event, err := parseEvent(body, d)
	if err != nil {
		h.reject(ctx, w, r, http.StatusBadRequest, err)
		return
	}

	if h.cfg.store == nil {
		h.run(ctx, w, event)
		return
	}
	claim, err := h.cfg.store.Claim(ctx, d.id, h.cfg.window)
	if err != nil {
		h.log(ctx, slog.LevelError, "webhook: duplicate store failed", d.id, http.StatusInternalServerError, err)
		respond(w, http.StatusInternalServerError, "webhook: duplicate store failed")
		return
	}
	switch claim {
	case ClaimAcquired:
	case ClaimDone:
		respond(w, http.StatusOK, "webhook: duplicate delivery, already processed")
		return
	default:
		w.Header().Set("Retry-After", "60")
		respond(w, http.StatusServiceUnavailable, "webhook: delivery with this webhook-id in progress")
		return
	}

	// Release the claim unless the callback returns successfully: on error and on panic
	// alike, the retry must be processed. The request may be over by then, so the store
	// gets a context that is not cancelled with it.
	completed := false
	defer func() {
		if !completed {
			if err := h.cfg.store.Release(context.WithoutCancel(ctx), d.id); err != nil {
				h.log(ctx, slog.LevelError, "webhook: releasing webhook-id failed", d.id, 0, err)
			}
		}
	}()
	if !h.run(ctx, w, event) {
		return
	}
	completed = true
	if err := h.cfg.store.Complete(context.WithoutCancel(ctx), d.id, h.cfg.window); err != nil {
		h.log(ctx, slog.LevelError, "webhook: recording webhook-id failed", d.id, http.StatusOK, err)
	}
}

// run calls the callback and answers; it reports whether the callback succeeded.
func (h *handler) run(ctx context.Context, w http.ResponseWriter, e *Event) bool {
	if err := h.fn(ctx, e); err != nil {
		h.log(ctx, slog.LevelError, "webhook: callback failed", e.WebhookID, http.StatusInternalServerError, err)
		respond(w, http.StatusInternalServerError, "webhook: processing failed")
		return false
	}
	respond(w, http.StatusOK, "ok")
	return true
}

// verifyStatus is the answer to a delivery that failed verification: 401 when it may be
// forged or replayed, 400 when it is not a well-formed delivery at all.
func verifyStatus(err error) int {
	switch {
	case errors.Is(err, ErrNoMatchingSignature),
		errors.Is(err, ErrTimestampTooOld),
		errors.Is(err, ErrTimestampTooNew):
		return http.StatusUnauthorized
	case errors.Is(err, ErrNoSecret):
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

func (h *handler) reject(ctx context.Context, w http.ResponseWriter, r *http.Request, status int, err error) {
	h.log(ctx, slog.LevelWarn, "webhook: delivery rejected", unverifiedID(r.Header), status, err)
	respond(w, status, err.Error())
}

// unverifiedID returns the webhook-id header of a rejected request for the log, cut short:
// it comes from an unauthenticated sender.
func unverifiedID(h http.Header) string {
	vs := headerValues(h, HeaderID)
	if len(vs) == 0 {
		return ""
	}
	const maxLen = 100
	if len(vs[0]) > maxLen {
		return vs[0][:maxLen] + "…"
	}
	return vs[0]
}

func (h *handler) log(ctx context.Context, level slog.Level, msg, id string, status int, err error) {
	if h.cfg.logger == nil {
		return
	}
	attrs := []slog.Attr{slog.String("webhook_id", id), slog.String("error", err.Error())}
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	h.cfg.logger.LogAttrs(ctx, level, msg, attrs...)
}

func respond(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}
