package redisoutbox

import (
	"context"
	"fmt"
	"strings"
)

// Persistence is what a Redis server keeps of what it acknowledged, as
// CONFIG GET reports it.
type Persistence struct {
	// AppendOnly is appendonly: every write is logged to the append-only
	// file.
	AppendOnly bool
	// AppendFsync is appendfsync: "always" (synced before the answer),
	// "everysec" or "no".
	AppendFsync string
	// MaxMemoryPolicy is maxmemory-policy; only "noeviction" never drops a
	// queued report when Redis is full.
	MaxMemoryPolicy string
}

// Survives says in a sentence what an acknowledged report survives on a
// server with p.
func (p Persistence) Survives() string {
	var s string
	switch {
	case !p.AppendOnly:
		s = "a Redis restart loses every queued report (appendonly no; an RDB snapshot, if configured, keeps only what it last saved)"
	case p.AppendFsync == "always":
		s = "an acknowledged report survives a crash of Redis and of its host (appendfsync always)"
	case p.AppendFsync == "everysec":
		s = "a crash of Redis or its host loses up to about the last second of acknowledged reports (appendfsync everysec)"
	default:
		s = "a crash of the Redis host loses what the kernel had not written out (appendfsync " + p.AppendFsync + ")"
	}
	if p.MaxMemoryPolicy != "noeviction" {
		s += "; maxmemory-policy " + p.MaxMemoryPolicy + " may evict queued reports when Redis is full (want noeviction)"
	}
	return s
}

// check fails unless p keeps what WithRequiredPersistence(fsync) asks for.
func (p Persistence) check(fsync string) error {
	ok := p.AppendOnly && p.MaxMemoryPolicy == "noeviction" &&
		(p.AppendFsync == "always" || (fsync == "everysec" && p.AppendFsync == "everysec"))
	if ok {
		return nil
	}
	return fmt.Errorf("redisoutbox: Redis is configured with appendonly %s, appendfsync %s, maxmemory-policy %s, want appendonly yes, appendfsync %s, maxmemory-policy noeviction: %s",
		yesNo(p.AppendOnly), p.AppendFsync, p.MaxMemoryPolicy, fsync, p.Survives())
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Persistence reads the server's persistence settings (CONFIG GET
// appendonly, appendfsync and maxmemory-policy). Servers that disable
// CONFIG answer an error.
func (o *Outbox) Persistence(ctx context.Context) (Persistence, error) {
	var p Persistence
	for _, name := range []string{"appendonly", "appendfsync", "maxmemory-policy"} {
		m, err := o.rdb.ConfigGet(ctx, name).Result()
		if err != nil {
			return p, o.unavailable("CONFIG GET "+name, err)
		}
		v, ok := m[name]
		if !ok {
			return p, fmt.Errorf("redisoutbox: CONFIG GET %s: Redis did not answer the setting", name)
		}
		switch name {
		case "appendonly":
			p.AppendOnly = strings.EqualFold(v, "yes")
		case "appendfsync":
			p.AppendFsync = v
		default:
			p.MaxMemoryPolicy = v
		}
	}
	return p, nil
}
