package main

import (
	"bytes"
	"cmp"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Model is one model type of package api: a struct generated from a schema.
type Model struct {
	Name      string
	Accessors []Accessor
}

// Accessor is the GetX method of one field.
type Accessor struct {
	Field string // the field's name
	// Result is the accessor's result type as Go source.
	Result string
	// Kind says how the value is read:
	//   "deref":        *T field, returns T
	//   "pointer":      *S field (S a struct of package api), returns the pointer
	//   "nullable":     Nullable[T] field, returns T
	//   "nullablePtr":  Nullable[S] field, returns a pointer to a copy of S
	//   "address":      S field, returns a pointer to it
	//   "value":        any other field (slice, map, interface, scalar), returns it
	Kind string
}

// Package is what the generator read from package api.
type Package struct {
	Name   string
	Models []Model
	// Headers are the accessors of declared response headers: GetX for
	// each field of an <Op>Result<NNN>Headers struct, and GetHeadersNNN
	// on the <Op>Result that holds it (not models: no json fields).
	Headers []Model
	// Imports are the import specs the accessors' result types need, as Go
	// source (`openapi_types "github.com/..."`): the standard library's
	// first, then an empty string (a blank line), then the others.
	Imports []string
}

// Load parses the Go files of the package in dir (skipping tests and the
// file the generator writes, skip) and returns its model types with their
// accessors. A model type is a struct type whose fields carry json tags,
// except the <Op>Params of an operation of ClientInterface (query
// parameters, not a body); the <Op>Result wrappers have no json tags. It
// fails when an accessor's name is taken by a method or field of the type.
func Load(dir, modelsFile, skip string) (*Package, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	var modelsAST *ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || name == skip {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		if name == modelsFile {
			modelsAST = f
		}
	}
	if modelsAST == nil {
		return nil, fmt.Errorf("%s: not found in %s", modelsFile, dir)
	}
	return build(fset, modelsAST, files)
}

func build(fset *token.FileSet, modelsAST *ast.File, files []*ast.File) (*Package, error) {
	structs := map[string]*ast.StructType{} // every struct type of the package
	var order []string                      // model candidates, in file order
	methods := map[string][]string{}        // type name → its method names
	ops := map[string]bool{}                // method names of ClientInterface
	for _, f := range files {
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv != nil && len(d.Recv.List) == 1 {
					if recv := recvName(d.Recv.List[0].Type); recv != "" {
						methods[recv] = append(methods[recv], d.Name.Name)
					}
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					ts, ok := spec.(*ast.TypeSpec)
					if !ok || ts.Assign.IsValid() {
						continue
					}
					switch t := ts.Type.(type) {
					case *ast.StructType:
						structs[ts.Name.Name] = t
						if f == modelsAST {
							order = append(order, ts.Name.Name)
						}
					case *ast.InterfaceType:
						if ts.Name.Name == "ClientInterface" {
							for _, m := range t.Methods.List {
								for _, n := range m.Names {
									ops[n.Name] = true
								}
							}
						}
					}
				}
			}
		}
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("no ClientInterface with methods: is this oapi-codegen's output with generate.client on?")
	}

	imports := map[string]string{} // package name → import spec
	for _, imp := range modelsAST.Imports {
		path := strings.Trim(imp.Path.Value, `"`)
		name := path[strings.LastIndex(path, "/")+1:]
		spec := imp.Path.Value
		if imp.Name != nil {
			name = imp.Name.Name
			spec = name + " " + spec
		}
		imports[name] = spec
	}
	used := map[string]bool{}

	// Only a struct with json-tagged fields has accessors to chain into. A
	// union (oapi-codegen's struct{ union json.RawMessage }) has none, and
	// its As<Variant> methods have value receivers, which panic on a nil
	// pointer: a field holding one is returned as a value, the zero union
	// when absent, so tier.GetUpTo().AsX() is an error, not a panic.
	chainable := map[string]*ast.StructType{}
	for name, st := range structs {
		if hasJSONTags(st) {
			chainable[name] = st
		}
	}

	pkg := &Package{Name: modelsAST.Name.Name}
	for _, name := range order {
		st := structs[name]
		if !hasJSONTags(st) || (strings.HasSuffix(name, "Params") && ops[strings.TrimSuffix(name, "Params")]) {
			continue
		}
		m := Model{Name: name}
		taken := map[string]string{}
		for _, meth := range methods[name] {
			taken[meth] = "method"
		}
		for _, field := range st.Fields.List {
			for _, n := range field.Names {
				taken[n.Name] = "field"
			}
		}
		for _, field := range st.Fields.List {
			for _, n := range field.Names {
				if !n.IsExported() || jsonName(field) == "" {
					continue // AdditionalProperties (json:"-") has Get(name)
				}
				a := accessor(fset, n.Name, field.Type, chainable)
				result, err := parser.ParseExpr(a.Result)
				if err != nil {
					return nil, fmt.Errorf("type %s, field %s: result type %s: %w", name, a.Field, a.Result, err)
				}
				for _, q := range qualifiers(result) {
					spec, known := imports[q]
					if !known {
						return nil, fmt.Errorf("type %s, field %s: package %s is not imported by %s", name, a.Field, q, fset.File(modelsAST.Pos()).Name())
					}
					used[spec] = true
				}
				getter := "Get" + a.Field
				if what, clash := taken[getter]; clash {
					return nil, fmt.Errorf("type %s: the accessor %s of field %s clashes with the %s %s.%s; rename one (x-go-name in api/overlay.yaml)", name, getter, a.Field, what, name, getter)
				}
				taken[getter] = "accessor"
				m.Accessors = append(m.Accessors, a)
			}
		}
		pkg.Models = append(pkg.Models, m)
	}
	if len(pkg.Models) == 0 {
		return nil, fmt.Errorf("no model types found")
	}
	headers, err := headerAccessors(fset, order, structs, methods, chainable, imports, used)
	if err != nil {
		return nil, err
	}
	pkg.Headers = headers
	// Standard library first, as goimports groups them.
	pkg.Imports = slices.SortedFunc(maps.Keys(used), func(a, b string) int {
		return cmp.Or(cmp.Compare(thirdParty(a), thirdParty(b)), cmp.Compare(a, b))
	})
	if i := slices.IndexFunc(pkg.Imports, func(s string) bool { return thirdParty(s) == 1 }); i > 0 {
		pkg.Imports = slices.Insert(pkg.Imports, i, "")
	}
	return pkg, nil
}

// accessor returns the accessor of a field of type expr.
func accessor(fset *token.FileSet, field string, expr ast.Expr, structs map[string]*ast.StructType) Accessor {
	a := Accessor{Field: field}
	switch t := expr.(type) {
	case *ast.StarExpr:
		if isStruct(t.X, structs) {
			a.Kind, a.Result = "pointer", source(fset, t)
		} else {
			a.Kind, a.Result = "deref", source(fset, t.X)
		}
		return a
	case *ast.IndexExpr: // nullable.Nullable[T]
		if sel, ok := t.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Nullable" {
			if isStruct(t.Index, structs) {
				a.Kind, a.Result = "nullablePtr", "*"+source(fset, t.Index)
			} else {
				a.Kind, a.Result = "nullable", source(fset, t.Index)
			}
			return a
		}
	}
	if isStruct(expr, structs) {
		a.Kind, a.Result = "address", "*"+source(fset, expr)
	} else {
		a.Kind, a.Result = "value", source(fset, expr)
	}
	return a
}

// isStruct reports whether expr is a struct type of the package (named or
// anonymous) with accessors (structs holds those). Other structs (unions,
// time.Time, openapi_types.Date) are values, returned as such.
func isStruct(expr ast.Expr, structs map[string]*ast.StructType) bool {
	switch t := expr.(type) {
	case *ast.StructType:
		return true
	case *ast.Ident:
		return structs[t.Name] != nil
	}
	return false
}

// qualifiers returns the package names a type expression refers to
// (time in *time.Time).
func qualifiers(expr ast.Expr) []string {
	var out []string
	ast.Inspect(expr, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				out = append(out, id.Name)
			}
			return false
		}
		return true
	})
	return out
}

// thirdParty reports whether an import spec is outside the standard
// library (its path's first element has a dot): 1 if so, else 0.
func thirdParty(spec string) int {
	path := spec[strings.Index(spec, `"`)+1:]
	if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
		return 1
	}
	return 0
}

func hasJSONTags(st *ast.StructType) bool {
	return slices.ContainsFunc(st.Fields.List, func(f *ast.Field) bool { return jsonName(f) != "" })
}

// jsonName is the JSON property name of a field, "" when it has none (no
// json tag, or json:"-").
func jsonName(f *ast.Field) string {
	if f.Tag == nil {
		return ""
	}
	tag, err := strconv.Unquote(f.Tag.Value)
	if err != nil {
		return ""
	}
	name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

func recvName(expr ast.Expr) string {
	if s, ok := expr.(*ast.StarExpr); ok {
		expr = s.X
	}
	if id, ok := expr.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// source prints a type expression as Go source (an anonymous struct on one
// logical block, without its comments).
func source(fset *token.FileSet, expr ast.Expr) string {
	var b bytes.Buffer
	if err := printer.Fprint(&b, fset, stripComments(expr)); err != nil {
		panic(err) // printing a parsed expression cannot fail
	}
	return b.String()
}

// stripComments drops field docs so the printed type carries no comments
// positioned elsewhere in the file.
func stripComments(expr ast.Expr) ast.Expr {
	ast.Inspect(expr, func(n ast.Node) bool {
		if f, ok := n.(*ast.Field); ok {
			f.Doc, f.Comment = nil, nil
		}
		return true
	})
	return expr
}

// sortedModels returns the model names, sorted.
func (p *Package) sortedModels() []string {
	names := make([]string, len(p.Models))
	for i, m := range p.Models {
		names[i] = m.Name
	}
	slices.Sort(names)
	return names
}

// headerAccessors returns the accessors of declared response headers. The
// parser fills <Op>Result.HeadersNNN (a *<Op>ResultNNNHeaders, nil for
// another status) with one pointer field per header (nil when absent), so
// reading a 302's Location took two nil checks; with these it is
// res.GetHeaders302().GetLocation(), nil-safe at every step like the
// models' accessors, and naming the status the header belongs to.
func headerAccessors(fset *token.FileSet, order []string, structs map[string]*ast.StructType, methods map[string][]string, chainable map[string]*ast.StructType, imports map[string]string, used map[string]bool) ([]Model, error) {
	var out []Model
	for _, name := range order {
		st := structs[name]
		var holder Model
		for _, field := range st.Fields.List {
			star, ok := field.Type.(*ast.StarExpr)
			if !ok || len(field.Names) != 1 || !isHeadersField(field.Names[0].Name) {
				continue
			}
			id, ok := star.X.(*ast.Ident)
			if !ok || structs[id.Name] == nil {
				continue
			}
			hs := structs[id.Name]
			h := Model{Name: id.Name}
			for _, hf := range hs.Fields.List {
				for _, n := range hf.Names {
					if !n.IsExported() {
						continue
					}
					a := accessor(fset, n.Name, hf.Type, chainable)
					if err := useImports(a, name, imports, used); err != nil {
						return nil, err
					}
					h.Accessors = append(h.Accessors, a)
				}
			}
			if err := clashes(h, methods[id.Name], hs); err != nil {
				return nil, err
			}
			out = append(out, h)
			holder.Accessors = append(holder.Accessors, Accessor{Field: field.Names[0].Name, Kind: "pointer", Result: "*" + id.Name})
		}
		if len(holder.Accessors) > 0 {
			holder.Name = name
			if err := clashes(holder, methods[name], st); err != nil {
				return nil, err
			}
			out = append(out, holder)
		}
	}
	return out, nil
}

// isHeadersField reports oapi-codegen's name of a result's parsed headers
// for one status: Headers followed by three digits.
func isHeadersField(name string) bool {
	rest, ok := strings.CutPrefix(name, "Headers")
	return ok && len(rest) == 3 && allDigits(rest)
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// useImports marks the imports a's result type needs.
func useImports(a Accessor, typeName string, imports map[string]string, used map[string]bool) error {
	result, err := parser.ParseExpr(a.Result)
	if err != nil {
		return fmt.Errorf("type %s, field %s: result type %s: %w", typeName, a.Field, a.Result, err)
	}
	for _, q := range qualifiers(result) {
		spec, known := imports[q]
		if !known {
			return fmt.Errorf("type %s, field %s: package %s is not imported by the models file", typeName, a.Field, q)
		}
		used[spec] = true
	}
	return nil
}

// clashes fails when one of m's accessors is named like a method or field
// of the type.
func clashes(m Model, methods []string, st *ast.StructType) error {
	for _, a := range m.Accessors {
		getter := "Get" + a.Field
		if slices.Contains(methods, getter) {
			return fmt.Errorf("type %s: the accessor %s of field %s clashes with the method %s.%s", m.Name, getter, a.Field, m.Name, getter)
		}
		for _, f := range st.Fields.List {
			for _, n := range f.Names {
				if n.Name == getter {
					return fmt.Errorf("type %s: the accessor %s of field %s clashes with the field %s.%s", m.Name, getter, a.Field, m.Name, getter)
				}
			}
		}
	}
	return nil
}

// All returns the models and then the header accessors, for the template.
func (p *Package) All() []Model {
	return append(slices.Clip(p.Models), p.Headers...)
}
