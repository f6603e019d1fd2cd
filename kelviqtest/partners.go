package kelviqtest

import (
	"fmt"
	"net/http"
	"strings"
)

// provisionOrg stores a new partner organization with fresh keys. A
// partnerExternalId already stored is 400, an owner e-mail already used
// 409, as kelviq documents.
func (st *store) provisionOrg(c *call) reply {
	ext, _ := c.body["externalId"].(string)
	email, _ := c.body["email"].(string)
	name, _ := c.body["businessName"].(string)
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, dup := st.orgByExt[ext]; dup {
		return fieldError("externalId", "An organization with this externalId already exists for this partner.")
	}
	if st.ownerEmails[strings.ToLower(email)] {
		return reply{http.StatusConflict, map[string]any{"detail": "An account with this email already exists."}}
	}
	n := st.fresh(kindOrganization)
	base := slug(name)
	if base == "" {
		base = slug(ext)
	}
	if base == "" {
		base = "organization"
	}
	s := base
	for i := 2; st.slugTaken(s); i++ {
		s = fmt.Sprintf("%s-%d", base, i)
	}
	org := map[string]any{
		"userId":                 float64(1000 + n),
		"organizationIdentifier": objectUUID(kindOrganization, n),
		"organizationSlug":       s,
		"clientKey":              fmt.Sprintf("ck_test_kelviqtest%06d", n),
		"serverKey":              fmt.Sprintf("sk_test_kelviqtest%06d", n),
		"partnerExternalId":      ext,
	}
	if !st.tooLarge(orgSize(orgEntry{org, strings.ToLower(email)}), func(d *Counts) { d.Organizations++ }) {
		st.addOrg(org, strings.ToLower(email))
		st.trim()
	}
	return reply{http.StatusCreated, org}
}

func (st *store) slugTaken(s string) bool {
	_, taken := st.slugs[s]
	return taken
}

// slug is a URL-safe lower-case form of s.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// listOrgs lists the partner's organizations, oldest first, or the one
// with external_id.
func (st *store) listOrgs(c *call) reply {
	ext, filter := c.query["external_id"]
	st.mu.Lock()
	results := make([]any, 0, st.orgs.len())
	for i := range st.orgs.len() {
		if o := st.orgs.at(i).org; !filter || o["partnerExternalId"] == ext[0] {
			results = append(results, o)
		}
	}
	st.mu.Unlock()
	return reply{http.StatusOK, map[string]any{"results": results, "count": len(results)}}
}

func (st *store) retrieveOrg(c *call) reply {
	return get(st, st.orgByID, &st.orgs, strings.ToLower(c.params["identifier"]), "Organization", orgObject)
}

func (st *store) retrieveOrgByExternalID(c *call) reply {
	return get(st, st.orgByExt, &st.orgs, c.params["externalId"], "Organization", orgObject)
}

func orgObject(o orgEntry) map[string]any { return o.org }
