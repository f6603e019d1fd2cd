// Command kelviq-specdrift compares the vendored kelviq OpenAPI spec with the
// live one and reports, per operation, what changed and whether it breaks
// code written against the generated Go client.
//
// Usage:
//
//	kelviq-specdrift [flags]
//
// By default it reads the live docs at https://docs.kelviq.com: the index
// llms.txt, every API reference page's markdown twin and its embedded OpenAPI
// fragment, and the published spec api-reference/openapi.json when it
// answers. With --against it compares with a full spec file or URL instead.
//
// Exit status: 0 no drift, 1 drift, 2 could not check (network, HTTP status,
// parse, or a docs page that could not be verified; usage errors too).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	kelviqgo "github.com/kelviq/kelviq-go"
	"github.com/kelviq/kelviq-go/internal/goapi"
	"github.com/kelviq/kelviq-go/internal/specdrift"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const defaultSpec = "openapi.json"

// errReported is a usage error the flag package has already printed.
var errReported = errors.New("usage error")

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	spec, docs, against, format  string
	includeDocs                  bool
	reportJSON, reportMD, saveTo string
	concurrency, retries         int
	maxIndexEntries              int
	timeout, deadline            time.Duration
	handWritten                  stringList
	noSpec                       bool
	goAPI                        bool
	changelog                    string
}

func parseFlags(args []string, stderr io.Writer) (*options, *flag.FlagSet, error) {
	o := &options{}
	fs := flag.NewFlagSet("kelviq-specdrift", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.spec, "spec", defaultSpec, "the vendored spec `path`")
	fs.StringVar(&o.docs, "docs", specdrift.DefaultDocsURL, "the live docs root `URL` (reads URL/llms.txt, the API pages' .md twins and URL/"+specdrift.PublishedSpecPath+")")
	fs.StringVar(&o.against, "against", "", "compare with this full spec `path or URL` instead of the live docs")
	fs.StringVar(&o.format, "format", "text", "output `format` on stdout: text, json or markdown")
	fs.BoolVar(&o.includeDocs, "include-docs", false, "count docs-only changes (descriptions, examples, x-mint) as drift")
	fs.StringVar(&o.reportJSON, "report-json", "", "also write the JSON report to `file`")
	fs.StringVar(&o.reportMD, "report-md", "", "also write the markdown report to `file`")
	fs.StringVar(&o.saveTo, "save-live", "", "write the full live spec that was compared (as served) to `file`; not written when there is none (docs mode without a published spec)")
	fs.IntVar(&o.concurrency, "concurrency", 8, "docs pages fetched at once")
	fs.IntVar(&o.maxIndexEntries, "max-index-entries", specdrift.DefaultMaxIndexEntries, "docs mode: the most distinct pages the index may list; over it, exit 2 without fetching any")
	fs.IntVar(&o.retries, "retries", 2, "retries of a request after a 5xx, 429, timeout or network error")
	fs.DurationVar(&o.timeout, "timeout", 20*time.Second, "timeout of each request")
	fs.DurationVar(&o.deadline, "deadline", 3*time.Minute, "deadline of the whole docs fetch")
	fs.Var(&o.handWritten, "hand-written", "an api-reference page `path` that is hand-written (no fragment), besides "+strings.Join(specdrift.DefaultHandWrittenPages, " and ")+"; repeatable")
	fs.BoolVar(&o.noSpec, "no-published-spec", false, "docs mode: do not fetch the published spec, assemble the live view from the index and the pages")
	fs.BoolVar(&o.goAPI, "go-api", false, "also compare the Go API of packages api and kelviq: regenerate the client for the live spec (and for --spec unless it is the module's own openapi.json) and diff with golang.org/x/exp/apidiff; needs the kelviq-go source tree and the go command")
	fs.StringVar(&o.changelog, "changelog", "", "on drift, add an entry under \"## [Unreleased]\" in this CHANGELOG.md `file` (with --go-api it names the bump)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: kelviq-specdrift [flags]\n\nCompares the vendored OpenAPI spec with the live kelviq docs (or --against a spec) and\nreports what changed and what breaks the generated Go client.\n\nExit status: 0 no drift, 1 drift, 2 could not check.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, fs, err
		}
		return nil, fs, errReported // the flag package printed it, with the usage
	}
	if fs.NArg() > 0 {
		return nil, fs, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["against"] && set["docs"] {
		return nil, fs, errors.New("--against and --docs are exclusive: --against compares with a full spec, --docs with the live docs")
	}
	if set["against"] && o.against == "" {
		return nil, fs, errors.New("--against needs a path or URL")
	}
	switch o.format {
	case specdrift.FormatText, specdrift.FormatJSON, specdrift.FormatMarkdown, "md":
	default:
		return nil, fs, fmt.Errorf("--format %q: want text, json or markdown", o.format)
	}
	if o.concurrency < 1 {
		return nil, fs, fmt.Errorf("--concurrency %d: want at least 1", o.concurrency)
	}
	if o.maxIndexEntries < 1 {
		return nil, fs, fmt.Errorf("--max-index-entries %d: want at least 1", o.maxIndexEntries)
	}
	if o.retries < 0 {
		return nil, fs, fmt.Errorf("--retries %d: want 0 or more", o.retries)
	}
	if o.timeout <= 0 || o.deadline <= 0 {
		return nil, fs, errors.New("--timeout and --deadline must be positive")
	}
	if !set["spec"] {
		o.spec = "" // default: openapi.json, else the embedded copy
	}
	return o, fs, nil
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, _, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errReported) {
		return specdrift.ExitCouldNotCheck
	}
	if err != nil {
		fmt.Fprintf(stderr, "kelviq-specdrift: %v (see -help)\n", err)
		return specdrift.ExitCouldNotCheck
	}
	vendored, source, err := readVendored(o.spec)
	if err != nil {
		fmt.Fprintf(stderr, "kelviq-specdrift: could not check: %v\n", err)
		return specdrift.ExitCouldNotCheck
	}
	var gen *goapi.Generator
	if o.goAPI {
		work, err := os.MkdirTemp("", "kelviq-specdrift-goapi-")
		if err != nil {
			fmt.Fprintf(stderr, "kelviq-specdrift: could not check: --go-api: %v\n", err)
			return specdrift.ExitCouldNotCheck
		}
		defer os.RemoveAll(work)
		if gen, err = newGenerator(ctx, work); err != nil {
			fmt.Fprintf(stderr, "kelviq-specdrift: could not check: --go-api: %v\n", err)
			return specdrift.ExitCouldNotCheck
		}
	}
	retries := o.retries
	if retries == 0 {
		retries = -1 // FetchOptions: negative means none
	}
	res, err := specdrift.Check(ctx, specdrift.Config{
		Vendored:       vendored,
		VendoredSource: source,
		Against:        o.against,
		DocsURL:        o.docs,
		IncludeDocs:    o.includeDocs,
		Docs: specdrift.DocsOptions{
			Fetch:           specdrift.FetchOptions{Timeout: o.timeout, Retries: retries},
			Concurrency:     o.concurrency,
			MaxIndexEntries: o.maxIndexEntries,
			Deadline:        o.deadline,
			HandWritten:     o.handWritten,
			SkipSpec:        o.noSpec,
		},
		GoAPI: gen,
	})
	if err != nil {
		fmt.Fprintf(stderr, "kelviq-specdrift: could not check: %v\n", err)
		return specdrift.ExitCouldNotCheck
	}
	r := res.Report
	if err := writeOutputs(o, res, stdout); err != nil {
		fmt.Fprintf(stderr, "kelviq-specdrift: %v\n", err)
		return specdrift.ExitCouldNotCheck
	}
	code := r.ExitCode()
	if code == specdrift.ExitCouldNotCheck {
		fmt.Fprintf(stderr, "kelviq-specdrift: could not check %d docs page(s):\n", len(r.Unverifiable))
		for _, u := range r.Unverifiable {
			fmt.Fprintf(stderr, "  %s: %s\n", u.Page, u.Error)
		}
	}
	return code
}

// readVendored reads --spec; without it, openapi.json in the working
// directory, else the copy embedded in the module's root package.
func readVendored(path string) ([]byte, string, error) {
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("--spec: %w", err)
		}
		return data, path, nil
	}
	data, err := os.ReadFile(defaultSpec)
	if err == nil {
		return data, defaultSpec, nil
	}
	if errors.Is(err, os.ErrNotExist) && len(kelviqgo.OpenAPISpec) > 0 {
		return kelviqgo.OpenAPISpec, defaultSpec + " (embedded in github.com/kelviq/kelviq-go)", nil
	}
	return nil, "", fmt.Errorf("--spec %s: %w", defaultSpec, err)
}

// newGenerator prepares the Go API diff from the source tree around the
// working directory.
func newGenerator(ctx context.Context, work string) (*goapi.Generator, error) {
	root, err := goapi.FindRoot(".")
	if err != nil {
		return nil, err
	}
	return goapi.NewGenerator(ctx, root, work)
}

func writeOutputs(o *options, res *specdrift.Result, stdout io.Writer) error {
	r := res.Report
	if err := r.Write(stdout, o.format); err != nil {
		return err
	}
	for _, out := range []struct{ path, format string }{{o.reportJSON, specdrift.FormatJSON}, {o.reportMD, specdrift.FormatMarkdown}} {
		if out.path == "" {
			continue
		}
		if err := writeFile(out.path, func(w io.Writer) error { return r.Write(w, out.format) }); err != nil {
			return err
		}
	}
	if o.changelog != "" && r.Drift {
		if err := specdrift.AddChangelogEntry(o.changelog, r); err != nil {
			return err
		}
	}
	if o.saveTo != "" && res.LiveSpec != nil {
		if err := writeFile(o.saveTo, func(w io.Writer) error { _, err := w.Write(res.LiveSpec); return err }); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
