package specdrift

import (
	"encoding/json"
	"errors"

	"github.com/getkin/kin-openapi/openapi3"
)

// AssembleSpec builds one OpenAPI document from docs pages (the live view
// when the published spec is not used): the first page's top level (openapi,
// info, servers, security, tags), every page's operation with its path
// item's shared fields, and the union of their components (the first
// definition of a name wins; the pages are fragments of one spec, so they
// agree). It is what the Go API diff regenerates the client from in docs
// mode without a published spec.
func AssembleSpec(pages []*Page) ([]byte, error) {
	var first *openapi3.T
	for _, p := range pages {
		if p.doc != nil {
			first = p.doc
			break
		}
	}
	if first == nil {
		return nil, errors.New("no docs page to assemble a spec from")
	}
	out := &openapi3.T{
		OpenAPI: first.OpenAPI, Info: first.Info, Servers: first.Servers,
		Security: first.Security, Tags: first.Tags,
		Paths: openapi3.NewPaths(), Components: &openapi3.Components{},
	}
	for _, p := range pages {
		if p.doc == nil || p.doc.Paths == nil {
			continue
		}
		item := p.doc.Paths.Value(p.Key.Path)
		if item == nil || item.GetOperation(p.Key.Method) == nil {
			continue
		}
		dst := out.Paths.Value(p.Key.Path)
		if dst == nil {
			dst = &openapi3.PathItem{Summary: item.Summary, Description: item.Description, Servers: item.Servers, Parameters: item.Parameters}
			out.Paths.Set(p.Key.Path, dst)
		}
		dst.SetOperation(p.Key.Method, item.GetOperation(p.Key.Method))
		if c := p.doc.Components; c != nil {
			oc := out.Components
			addMissing(&oc.Schemas, c.Schemas)
			addMissing(&oc.Parameters, c.Parameters)
			addMissing(&oc.Headers, c.Headers)
			addMissing(&oc.RequestBodies, c.RequestBodies)
			addMissing(&oc.Responses, c.Responses)
			addMissing(&oc.SecuritySchemes, c.SecuritySchemes)
			addMissing(&oc.Examples, c.Examples)
			addMissing(&oc.Links, c.Links)
			addMissing(&oc.Callbacks, c.Callbacks)
		}
	}
	return json.Marshal(out)
}

// addMissing copies the entries of src whose names *dst lacks.
func addMissing[M ~map[string]V, V any](dst *M, src M) {
	for k, v := range src {
		if *dst == nil {
			*dst = M{}
		}
		if _, ok := (*dst)[k]; !ok {
			(*dst)[k] = v
		}
	}
}
