package specdrift

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Environments a server URL belongs to. kelviq's hosts say it in their name:
// sandboxapi.kelviq.com and edge.sandboxapi.kelviq.com are the sandbox, the
// other hosts production.
const (
	EnvProduction = "production"
	EnvSandbox    = "sandbox"
)

// serverEnv returns the environment of a server URL: sandbox when a label of
// its host contains "sandbox", production otherwise.
func serverEnv(raw string) string {
	host := raw
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	for label := range strings.SplitSeq(strings.ToLower(host), ".") {
		if strings.Contains(label, "sandbox") {
			return EnvSandbox
		}
	}
	return EnvProduction
}

func normURL(u string) string { return strings.TrimSuffix(strings.TrimSpace(u), "/") }

// Kinds of server changes.
const (
	KindServerURLChanged         = "server-url-changed"
	KindServerAdded              = "server-added"
	KindServerRemoved            = "server-removed"
	KindServerProductionRemoved  = "server-production-removed"
	KindServerOrderChanged       = "server-order-changed"
	KindServerLevelChanged       = "server-level-changed"
	KindServerDescriptionChanged = "server-description-changed"
)

// Why each server change has its level, for the messages.
const (
	productionRemovedWhy = "the default environment loses its host"
	sandboxRemovedWhy    = "the generated code does not change and production calls go where they went"
	urlChangedWhy        = "calls in that environment would go to another host or base path"
	orderChangedWhy      = "the client picks a server by environment, never the first one"
)

// serverChanges compares the effective servers of an operation, environment
// by environment (oasdiff does not compare servers):
//
//   - an environment declared on both sides whose URL differs: breaking
//     (host change: calls in that environment go elsewhere);
//   - an environment declared only by the live spec: non-breaking;
//   - production no longer declared: breaking; sandbox no longer declared:
//     non-breaking (reported);
//   - same URLs in another order, or declared at another level: non-breaking;
//   - descriptions only: docs-only.
func serverChanges(base, rev *Operation) []Change {
	var out []Change
	add := func(kind string, level Level, msg string) {
		out = append(out, newChange(base, rev, kind, level, msg))
	}
	bURLs, rURLs := serverURLsByEnv(base.Servers), serverURLsByEnv(rev.Servers)
	for _, env := range []string{EnvProduction, EnvSandbox} {
		b, r := bURLs[env], rURLs[env]
		switch {
		case len(b) == 0 && len(r) == 0:
		case len(b) == 0:
			add(KindServerAdded, NonBreaking, fmt.Sprintf("%s server added (%s): %s", env, rev.Servers.Level, quoteList(r)))
		case len(r) == 0 && env == EnvProduction:
			add(KindServerProductionRemoved, Breaking, fmt.Sprintf("production server %s no longer declared (%s now declares %s): %s",
				quoteList(b), rev.Servers.Level, describeServers(rev.Servers), productionRemovedWhy))
		case len(r) == 0:
			add(KindServerRemoved, NonBreaking, fmt.Sprintf("%s server %s no longer declared (%s now declares %s); %s",
				env, quoteList(b), rev.Servers.Level, describeServers(rev.Servers), sandboxRemovedWhy))
		case !sameSet(b, r):
			add(KindServerURLChanged, Breaking, fmt.Sprintf("%s server changed from %s to %s (%s): %s",
				env, quoteList(b), quoteList(r), rev.Servers.Level, urlChangedWhy))
		}
	}
	if len(out) > 0 {
		return out
	}
	bAll, rAll := allURLs(base.Servers), allURLs(rev.Servers)
	switch {
	case !slices.Equal(bAll, rAll):
		add(KindServerOrderChanged, NonBreaking, fmt.Sprintf("servers reordered from %s to %s; %s",
			quoteList(bAll), quoteList(rAll), orderChangedWhy))
	case base.Servers.Level != rev.Servers.Level:
		add(KindServerLevelChanged, NonBreaking, fmt.Sprintf("servers now declared at %s (were at %s), same URLs",
			rev.Servers.Level, base.Servers.Level))
	default:
		for i := range base.Servers.Servers {
			bd, rd := base.Servers.Servers[i].Description, rev.Servers.Servers[i].Description
			if bd != rd {
				add(KindServerDescriptionChanged, DocsOnly, fmt.Sprintf("description of server %s changed from %q to %q",
					"`"+base.Servers.Servers[i].URL+"`", bd, rd))
			}
		}
	}
	return out
}

func serverURLsByEnv(d ServerDecl) map[string][]string {
	out := map[string][]string{}
	for _, s := range d.Servers {
		env := serverEnv(s.URL)
		out[env] = append(out[env], normURL(s.URL))
	}
	return out
}

func allURLs(d ServerDecl) []string {
	out := make([]string, len(d.Servers))
	for i, s := range d.Servers {
		out[i] = normURL(s.URL)
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func describeServers(d ServerDecl) string {
	if len(d.Servers) == 0 {
		return "no server"
	}
	return quoteList(allURLs(d))
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "`" + s + "`"
	}
	return strings.Join(q, ", ")
}
