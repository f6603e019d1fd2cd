package usage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kelviq/kelviq-go/kelviq"
)

// Flush tries to send everything stored now, without waiting for the
// sender's backoff, and returns how many reports remain stored. It makes
// one pass: every (customer, feature) with reports is sent until it is
// empty or a request fails; reports stored meanwhile may remain. Once a
// request gets no answer at all (kelviq unreachable, or a timeout), the
// pass starts no other (customer, feature). It honours
// a Retry-After kelviq asked for: until then it sends nothing and returns
// an error saying so. err is the first failure (nil when every send
// succeeded), or ctx's error.
func (r *Reporter) Flush(ctx context.Context) (remaining int, err error) {
	r.closeMu.RLock()
	if r.closed {
		r.closeMu.RUnlock()
		return 0, ErrClosed
	}
	r.inflight.Add(1) // before Close can wait for it
	r.closeMu.RUnlock()
	defer r.inflight.Done()
	// Close stops this flush's requests too.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(r.sendCtx, cancel)
	defer stop()
	return r.flush(ctx)
}

// flush is Flush without the closed check, for Close too.
func (r *Reporter) flush(ctx context.Context) (int, error) {
	r.mu.Lock()
	var todo []*pairState
	for _, p := range r.pairs {
		if len(p.seqs) > 0 {
			todo = append(todo, p)
		}
	}
	r.mu.Unlock()

	var (
		mu          sync.Mutex
		firstErr    error
		unreachable atomic.Bool
		wg          sync.WaitGroup
		work        = make(chan *pairState)
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	for range min(r.cfg.concurrency, len(todo)) {
		wg.Go(func() {
			for p := range work {
				if unreachable.Load() {
					// kelviq did not answer: every pair would fail alike,
					// each after up to a request timeout (30 s), and a
					// Close without a deadline would wait for them all.
					continue
				}
				if err := r.drain(ctx, p); err != nil {
					fail(err)
					if noAnswer(err) {
						unreachable.Store(true)
					}
				}
			}
		})
	}
feed:
	for _, p := range todo {
		select {
		case work <- p:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil && firstErr == nil {
		firstErr = err
	}
	return r.queued(), firstErr
}

// noAnswer reports whether err is a failed send that kelviq did not
// answer: a network failure or a timeout, not a status or a store
// failure. (The caller's context ending counts too: no pair can be sent.)
func noAnswer(err error) bool {
	var apiErr *kelviq.Error
	var storeErr *storeError
	return !errors.As(err, &apiErr) && !errors.As(err, &storeErr)
}

// drain sends pair p until it is empty or a send fails.
func (r *Reporter) drain(ctx context.Context, p *pairState) error {
	select {
	case p.busy <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.busy; r.kick() }()
	r.mu.Lock()
	// Bounded, so a flush under a steady load of reports ends.
	rounds := len(p.seqs)/r.cfg.maxPerRequest + 2
	r.mu.Unlock()
	for range rounds {
		if err := r.waitRetryAfter(); err != nil {
			return err
		}
		switch err := r.send(ctx, p); {
		case errors.Is(err, errNothing):
			return nil
		case err != nil:
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// waitRetryAfter returns an error while kelviq's Retry-After is running.
func (r *Reporter) waitRetryAfter() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if until := r.retryAfterUntil; until > r.cfg.now().UnixNano() {
		err := fmt.Errorf("usage: kelviq asked to wait until %s (Retry-After)", time.Unix(0, until).UTC().Format(time.RFC3339))
		if r.lastErr != nil {
			err = fmt.Errorf("%w: %w", err, r.lastErr)
		}
		return err
	}
	return nil
}
