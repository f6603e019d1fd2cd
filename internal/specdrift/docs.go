package specdrift

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultDocsURL is the live kelviq docs site.
const DefaultDocsURL = "https://docs.kelviq.com"

// PublishedSpecPath is where the docs site serves the full spec.
const PublishedSpecPath = "api-reference/openapi.json"

// DocsOptions control the docs mode. The zero value is usable.
type DocsOptions struct {
	// Fetch controls each request (timeout, retries, client).
	Fetch FetchOptions
	// Concurrency is the number of workers fetching pages, so the most
	// requests in flight (default 8).
	Concurrency int
	// MaxIndexEntries caps the distinct pages the index may list (default
	// DefaultMaxIndexEntries); over it FetchDocs fails without fetching any
	// page.
	MaxIndexEntries int
	// Deadline bounds the whole fetch: index, pages and spec (default 3m).
	Deadline time.Duration
	// HandWritten names more hand-written pages under api-reference/ (page
	// paths like "api-reference/errors"), besides DefaultHandWrittenPages.
	HandWritten []string
	// SkipSpec does not fetch the published full spec.
	SkipSpec bool
}

func (o DocsOptions) withDefaults() DocsOptions {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Deadline <= 0 {
		o.Deadline = 3 * time.Minute
	}
	if o.MaxIndexEntries <= 0 {
		o.MaxIndexEntries = DefaultMaxIndexEntries
	}
	o.HandWritten = append(append([]string{}, DefaultHandWrittenPages...), o.HandWritten...)
	return o
}

// Unverifiable is an index entry that could not be fetched or parsed, or
// the published spec when it redirected off the docs host.
type Unverifiable struct {
	// Page is the URL of the page's markdown twin.
	Page string `json:"page"`
	// Operation is the operation the page probably documents, by the slug
	// rule ("" when no known operation has that page path).
	Operation string `json:"operation,omitempty"`
	// Error is the cause.
	Error string `json:"error"`
}

// Docs is what the live docs say about the API.
type Docs struct {
	// Base is the docs root the pages were read from.
	Base string
	// IndexURL is the index that was read.
	IndexURL string
	// Entries are the index's entries, each page once.
	Entries []IndexEntry
	// Duplicates counts index entries dropped because an earlier entry
	// names the same page.
	Duplicates int
	// Pages are the operation pages that parsed, in index order.
	Pages []*Page
	// PagesView holds the operations of Pages (the first page wins when two
	// document the same operation).
	PagesView *View
	// Unverifiable lists index entries that could not be fetched or parsed.
	Unverifiable []Unverifiable
	// HandWritten lists the hand-written api-reference pages (not fetched).
	HandWritten []string
	// NoFragment lists other api-reference pages that carry no fragment.
	NoFragment []string
	// Notes are observations: duplicate pages, pages that name another spec.
	Notes []string
	// SpecURL is the published spec's URL ("" when SkipSpec).
	SpecURL string
	// Spec is the published spec, nil when it did not answer or load.
	Spec *View
	// SpecBytes is the published spec as served (nil when Spec is nil).
	SpecBytes []byte
	// SpecError says why Spec is nil ("" when it loaded or was skipped).
	SpecError string

	specErr error // the cause behind SpecError
}

// FetchDocs reads the live docs under base: the index, every API reference
// page it lists (each page once, by opt.Concurrency workers), each page's
// embedded fragment, and the published full spec. Redirects are followed
// only on the docs host (an https upgrade included): one off it is refused
// and never retried.
//
// It fails when the base is not an http(s) URL or the index cannot be
// fetched or parsed (or lists no API reference page, or more distinct pages
// than opt.MaxIndexEntries); a page that fails becomes an Unverifiable
// entry; the published spec failing is recorded in SpecError, and when it
// redirected off the docs host it is Unverifiable too.
func FetchDocs(ctx context.Context, base string, opt DocsOptions) (*Docs, error) {
	opt = opt.withDefaults()
	baseURL, err := parseBase(base)
	if err != nil {
		return nil, err
	}
	var specWG sync.WaitGroup
	defer specWG.Wait() // after cancel below: an early return stops the spec fetch
	ctx, cancel := context.WithTimeout(ctx, opt.Deadline)
	defer cancel()
	f := newFetcher(opt.Fetch).confineTo(baseURL)
	d := &Docs{Base: baseURL.String(), IndexURL: joinURL(baseURL, "llms.txt")}

	if !opt.SkipSpec {
		d.SpecURL = joinURL(baseURL, PublishedSpecPath)
		specWG.Go(func() { d.fetchSpec(ctx, f) })
	}

	index, err := f.get(ctx, d.IndexURL)
	if err != nil {
		return nil, fmt.Errorf("docs index: %w", err)
	}
	d.Entries, d.Duplicates, err = ParseIndexLimited(index, opt.MaxIndexEntries)
	if err != nil {
		return nil, fmt.Errorf("docs index %s: %w", d.IndexURL, err)
	}

	var toFetch []IndexEntry
	for _, e := range d.Entries {
		if e.Refused != "" {
			d.Unverifiable = append(d.Unverifiable, Unverifiable{Page: redactedLink(e.Link), Error: fmt.Sprintf("index line %d: %s", e.Line, e.Refused)})
			continue
		}
		switch e.Kind(opt.HandWritten) {
		case PageHandWritten:
			d.HandWritten = append(d.HandWritten, e.Path)
		case PageOperation, PageAPIOther:
			toFetch = append(toFetch, e)
		}
	}
	operationPages := 0
	for _, e := range toFetch {
		if e.Kind(opt.HandWritten) == PageOperation {
			operationPages++
		}
	}
	if operationPages == 0 {
		return nil, fmt.Errorf("docs index %s: lists %d pages but none under %s<tag>/<page>: not the API docs index it used to be",
			d.IndexURL, len(d.Entries), APIReferencePrefix)
	}

	if d.Duplicates > 0 {
		d.Notes = append(d.Notes, fmt.Sprintf("the index lists %d duplicate entries (a page named again); each page was read once", d.Duplicates))
	}

	d.fetchPages(ctx, f, baseURL, toFetch, opt)
	specWG.Wait()
	if errors.Is(d.specErr, ErrOffHostRedirect) {
		d.Unverifiable = append(d.Unverifiable, Unverifiable{Page: d.SpecURL, Error: d.SpecError})
	}
	return d, nil
}

// redactedLink is an index link fit for a report: a password in it is
// masked.
func redactedLink(link string) string {
	if u, err := url.Parse(link); err == nil {
		return u.Redacted()
	}
	return link
}

func parseBase(base string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil {
		return nil, fmt.Errorf("docs URL %q: %w", base, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("docs URL %q: want an http(s) URL such as %s", base, DefaultDocsURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

func (d *Docs) fetchSpec(ctx context.Context, f *fetcher) {
	data, err := f.get(ctx, d.SpecURL)
	if err != nil {
		d.specErr, d.SpecError = err, err.Error()
		return
	}
	if err := ctx.Err(); err != nil {
		d.SpecError = contextCause(ctx, nil).Error() // the check is over (the index failed): do not parse
		return
	}
	v, err := LoadView(data, d.SpecURL)
	if err != nil {
		d.SpecError = err.Error()
		return
	}
	d.Spec, d.SpecBytes = v, data
}

type pageResult struct {
	entry IndexEntry
	url   string
	page  *Page
	err   error
}

func (d *Docs) fetchPages(ctx context.Context, f *fetcher, base *url.URL, entries []IndexEntry, opt DocsOptions) {
	results := make([]pageResult, len(entries))
	for i, e := range entries {
		results[i] = pageResult{entry: e, url: e.TwinURL(base)}
	}
	// A fixed pool of workers, not a goroutine per entry: the index decides
	// how many entries there are, the options how much runs at once.
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(opt.Concurrency, len(entries)) {
		wg.Go(func() {
			for i := range jobs {
				r := &results[i]
				if ctx.Err() != nil {
					r.err = &FetchError{URL: r.url, Err: contextCause(ctx, nil)}
					continue
				}
				data, err := f.get(ctx, r.url)
				if err != nil {
					r.err = err
					continue
				}
				r.page, r.err = ParsePage(data, r.url)
			}
		})
	}
	for i := range results {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	view := &View{Source: d.Base + " (pages)", Ops: map[OpKey]*Operation{}}
	var order []OpKey
	for _, r := range results {
		kind := r.entry.Kind(opt.HandWritten)
		switch {
		case errors.Is(r.err, ErrNoFragment):
			if kind == PageOperation {
				d.Unverifiable = append(d.Unverifiable, Unverifiable{Page: r.url, Error: r.err.Error()})
			} else {
				d.NoFragment = append(d.NoFragment, r.entry.Path)
			}
		case r.err != nil:
			d.Unverifiable = append(d.Unverifiable, Unverifiable{Page: r.url, Error: r.err.Error()})
		default:
			p := r.page
			if prev, ok := view.Ops[p.Key]; ok {
				d.Notes = append(d.Notes, fmt.Sprintf("%s and %s both document %s; the first is used", prev.Origin, p.URL, p.Key))
				continue
			}
			if p.SpecRef != "" && strings.TrimPrefix(p.SpecRef, "/") != PublishedSpecPath {
				d.Notes = append(d.Notes, fmt.Sprintf("%s names spec %s, not /%s", p.URL, p.SpecRef, PublishedSpecPath))
			}
			d.Pages = append(d.Pages, p)
			view.Ops[p.Key] = p.Op
			order = append(order, p.Key)
		}
	}
	view.setOrder(order)
	d.PagesView = view
}

// guessOperations fills in the operation of unverifiable pages from the slug
// rule applied to the given views (first match wins) and returns the set of
// operations concerned.
func (d *Docs) guessOperations(views ...*View) map[OpKey]bool {
	unknown := map[OpKey]bool{}
	base, err := url.Parse(d.Base)
	if err != nil {
		return unknown
	}
	var pages []map[string]OpKey
	for _, v := range views {
		if v != nil {
			pages = append(pages, PagePaths(v))
		}
	}
	for i, u := range d.Unverifiable {
		rel := strings.TrimPrefix(strings.TrimPrefix(u.Page, joinURL(base, "")), "/")
		rel = strings.TrimSuffix(rel, ".md")
		for _, paths := range pages {
			if k, ok := paths[rel]; ok {
				d.Unverifiable[i].Operation = k.String()
				unknown[k] = true
				break
			}
		}
	}
	return unknown
}
