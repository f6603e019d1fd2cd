// Package specdrift compares the vendored kelviq OpenAPI spec with the live
// one and says, per operation, what changed and whether the change breaks
// code written against the generated Go client.
//
// The live side comes from one of two places:
//
//   - the live docs (FetchDocs): the index llms.txt says which API pages
//     exist, each page's markdown twin embeds a self-contained OpenAPI
//     fragment for its operation, and the published full spec is used when
//     it answers (and then cross-checked with the pages);
//   - a full spec file or URL (LoadSource), for reviewing an upstream spec
//     before vendoring it.
//
// Both become a View: the operations of a spec, each with a self-contained
// copy for the schema diff (done by oasdiff) and its effective servers and
// security (compared here, because oasdiff does not). Compare turns two views
// into a Comparison; Check runs a whole check and returns a Report that
// renders as text, JSON or markdown and maps to the CLI's exit status. With
// Config.GoAPI the report also carries the Go API diff of the regenerated
// client (package internal/goapi).
//
// The docs index is untrusted input: each page is read once, by a fixed
// pool of workers, an index over DocsOptions.MaxIndexEntries distinct pages
// is refused unread, and redirects never leave the docs host.
//
// The package is organised one job a file: index.go (llms.txt), slug.go
// (page paths), fetch.go (HTTP), fragment.go (page twins), docs.go (the docs
// mode), load.go and view.go (specs and operations), diff.go (comparison),
// schema.go (oasdiff), servers.go, security.go, classify.go (what breaks a
// generated Go client), report.go and render.go (output), check.go (one run),
// goapi.go, assemble.go and render_goapi.go (the Go API diff), changelog.go
// (the CHANGELOG entry). docs/spec-drift.md documents the tool.
package specdrift
