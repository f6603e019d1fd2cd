package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
)

// RenderGuards returns the Go source of kelviq/pathparams.gen.go: for every
// method of the generated api.ClientInterface, a method of kelviq's
// guardedClient with the same signature that checks each string path
// parameter (checkPathParam, hand-written in kelviq) and marks the context
// with the operation the request is built for (builtFor: the router refuses
// a request that a request editor moved to another operation) before
// delegating; an error of building the request (a body that does not
// marshal, a request editor's) comes back naming the operation (named). The builders oapi-codegen writes resolve the path
// against the server URL, which removes "." and ".." segments: a parameter
// ".." would send the request to another operation. Nothing in the
// request that arrives at the client's Doer tells it apart from a real call
// of that other operation, so the check has to run here, where the values
// are still known.
//
// The signatures are read from clientSrc (api/api.gen.go, which
// oapi-codegen writes first), so every variant (XxxWithBody, typed bodies,
// params) is covered without a list kept by hand.
func RenderGuards(t *Table, clientSrc []byte, pkg, apiImport string) ([]byte, error) {
	f, imports, err := parseClient(clientSrc)
	if err != nil {
		return nil, err
	}
	iface := findInterface(f, "ClientInterface")
	if iface == nil {
		return nil, fmt.Errorf("the generated client has no ClientInterface")
	}
	stringTypes := namedStrings(f)
	byGoName := t.byGoName()
	used := map[string]bool{}
	var body bytes.Buffer
	guarded := 0
	for _, m := range iface.Methods.List {
		if len(m.Names) != 1 {
			continue
		}
		name := m.Names[0].Name
		op := operationOf(byGoName, name)
		if op == nil {
			return nil, fmt.Errorf("ClientInterface.%s belongs to no operation of the table", name)
		}
		params := pathParamNames(op.Path)
		ft := m.Type.(*ast.FuncType)
		args, err := funcArgs(ft, imports, used)
		if err != nil {
			return nil, fmt.Errorf("ClientInterface.%s: %w", name, err)
		}
		if len(args) < len(params)+1 {
			return nil, fmt.Errorf("ClientInterface.%s has %d arguments, fewer than ctx and the %d path parameters of %s", name, len(args), len(params), op.Path)
		}
		var checks []string
		for i, p := range params {
			a := args[i+1]
			value := a.name
			switch {
			case a.typ == "string":
			case strings.HasPrefix(a.typ, "api.") && stringTypes[strings.TrimPrefix(a.typ, "api.")]:
				value = "string(" + a.name + ")" // an enum, say: any string converts to it
			default:
				continue
			}
			checks = append(checks, fmt.Sprintf("if err := checkPathParam(%q, %q, %s); err != nil {\nreturn nil, err\n}\n", op.ID, p, value))
		}
		// UUIDs, numbers, dates have no checks: no value of theirs leaves
		// its segment.
		results, err := fieldList(ft.Results, imports, used)
		if err != nil {
			return nil, fmt.Errorf("ClientInterface.%s: %w", name, err)
		}
		if len(args) == 0 || args[0].typ != "context.Context" {
			return nil, fmt.Errorf("ClientInterface.%s does not take a context.Context first", name)
		}
		decl, call := signature(args)
		mark := ""
		if last := args[len(args)-1]; last.typ == "...api.RequestEditorFn" {
			// A nil editor would panic in the generated applyEditors;
			// dropped, as NewClient drops a nil Option.
			mark = fmt.Sprintf("%s = withoutNil(%s)\n", last.name, last.name)
		}
		mark += fmt.Sprintf("%s, err := builtFor(%s, %q)\nif err != nil {\nreturn nil, err\n}\n", args[0].name, args[0].name, op.ID)
		what := "checks the path parameters of"
		if len(checks) == 0 {
			what = "marks the request as one of"
		}
		fmt.Fprintf(&body, "\n// %s %s %s (%s %s), then calls the generated client.\n", name, what, op.ID, op.Method, op.Path)
		if results != "*http.Response, error" {
			return nil, fmt.Errorf("ClientInterface.%s returns (%s), not (*http.Response, error)", name, results)
		}
		fmt.Fprintf(&body, "func (g guardedClient) %s(%s) (%s) {\n%s%srsp, err := g.ClientInterface.%s(%s)\nreturn rsp, named(%q, err)\n}\n",
			name, decl, results, strings.Join(checks, ""), mark, name, call, op.ID)
		if len(checks) > 0 {
			guarded++
		}
	}
	if guarded == 0 {
		return nil, fmt.Errorf("no operation has a string path parameter: nothing to guard (did the generated ClientInterface change shape?)")
	}

	return clientFile(pkg, apiImport, used, body.Bytes())
}

// parseClient parses the generated client and returns the package names
// it imports.
func parseClient(src []byte) (*ast.File, map[string]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "api.gen.go", src, parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the generated client: %w", err)
	}
	return f, fileImports(f), nil
}

// byGoName indexes the operations by their Go name.
func (t *Table) byGoName() map[string]*Operation {
	m := map[string]*Operation{}
	for i := range t.Operations {
		m[t.Operations[i].GoName] = &t.Operations[i]
	}
	return m
}

// signature returns a method's parameter list and the argument list that
// passes them on.
func signature(args []arg) (decl, call string) {
	var d, c []string
	for _, a := range args {
		d = append(d, a.name+" "+a.typ)
		if a.variadic {
			c = append(c, a.name+"...")
		} else {
			c = append(c, a.name)
		}
	}
	return strings.Join(d, ", "), strings.Join(c, ", ")
}

// clientFile assembles and formats a file of package kelviq written from
// the generated client.
func clientFile(pkg, apiImport string, used map[string]bool, body []byte) ([]byte, error) {
	var src bytes.Buffer
	src.WriteString("// Code generated by internal/cmd/genoperations from api/api.gen.go. DO NOT EDIT.\n\npackage " + pkg + "\n\n")
	writeImports(&src, apiImport, used)
	src.Write(body)
	out, err := format.Source(src.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the generated file: %w\n%s", err, src.Bytes())
	}
	return out, nil
}

// fileImports maps the package names a file uses to their import specs.
func fileImports(f *ast.File) map[string]string {
	imports := map[string]string{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		spec := strconv.Quote(path)
		if imp.Name != nil {
			name = imp.Name.Name
			spec = name + " " + spec
		}
		imports[name] = spec
	}
	return imports
}

// funcArgs returns the parameters of a function type, their types as
// package kelviq writes them.
func funcArgs(ft *ast.FuncType, imports map[string]string, used map[string]bool) ([]arg, error) {
	var args []arg
	for _, field := range ft.Params.List {
		typ, err := qualify(field.Type, imports, used)
		if err != nil {
			return nil, err
		}
		for _, id := range field.Names {
			args = append(args, arg{name: id.Name, typ: typ, variadic: strings.HasPrefix(typ, "...")})
		}
	}
	return args, nil
}

// writeImports writes the import block: the standard library's first, as
// gofmt groups them, then package api and the others.
func writeImports(src *bytes.Buffer, apiImport string, used map[string]bool) {
	var std, other []string
	other = append(other, strconv.Quote(apiImport))
	for s := range used {
		if path := s[strings.IndexByte(s, '"'):]; strings.Contains(strings.SplitN(path, "/", 2)[0], ".") {
			other = append(other, s)
		} else {
			std = append(std, s)
		}
	}
	slices.Sort(std)
	slices.SortFunc(other, func(a, b string) int {
		return strings.Compare(a[strings.IndexByte(a, '"'):], b[strings.IndexByte(b, '"'):])
	})
	src.WriteString("import (\n")
	for _, group := range [][]string{std, other} {
		for _, s := range group {
			src.WriteString("\t" + s + "\n")
		}
		src.WriteString("\n")
	}
	src.WriteString(")\n")
}

type arg struct {
	name, typ string
	variadic  bool
}

// operationOf returns the operation whose client method name is: its GoName,
// or its GoName followed by With…Body (the variants per request body type).
func operationOf(byGoName map[string]*Operation, name string) *Operation {
	if op := byGoName[name]; op != nil {
		return op
	}
	for i := strings.LastIndex(name, "With"); i > 0; i = strings.LastIndex(name[:i], "With") {
		if op := byGoName[name[:i]]; op != nil && strings.HasSuffix(name, "Body") {
			return op
		}
	}
	return nil
}

// namedStrings returns the types the file declares as `type X string`.
func namedStrings(f *ast.File) map[string]bool {
	out := map[string]bool{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, s := range gd.Specs {
			ts := s.(*ast.TypeSpec)
			if id, ok := ts.Type.(*ast.Ident); ok && id.Name == "string" && ts.Assign == 0 {
				out[ts.Name.Name] = true
			}
		}
	}
	return out
}

func findInterface(f *ast.File, name string) *ast.InterfaceType {
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, s := range gd.Specs {
			ts := s.(*ast.TypeSpec)
			if it, ok := ts.Type.(*ast.InterfaceType); ok && ts.Name.Name == name {
				return it
			}
		}
	}
	return nil
}

func fieldList(fl *ast.FieldList, imports map[string]string, used map[string]bool) (string, error) {
	var out []string
	for _, f := range fl.List {
		typ, err := qualify(f.Type, imports, used)
		if err != nil {
			return "", err
		}
		out = append(out, typ)
	}
	return strings.Join(out, ", "), nil
}

// predeclared are the type names that are not package api's.
var predeclared = map[string]bool{"string": true, "bool": true, "int": true, "int32": true, "int64": true, "float32": true, "float64": true, "byte": true, "error": true, "any": true}

// qualify writes a type of package api as package kelviq names it: api's
// own types get "api.", other packages' keep their name and are imported.
func qualify(e ast.Expr, imports map[string]string, used map[string]bool) (string, error) {
	switch e := e.(type) {
	case *ast.Ident:
		if predeclared[e.Name] {
			return e.Name, nil
		}
		return "api." + e.Name, nil
	case *ast.StarExpr:
		s, err := qualify(e.X, imports, used)
		return "*" + s, err
	case *ast.Ellipsis:
		s, err := qualify(e.Elt, imports, used)
		return "..." + s, err
	case *ast.ArrayType:
		if e.Len != nil {
			return "", fmt.Errorf("array types are not supported")
		}
		s, err := qualify(e.Elt, imports, used)
		return "[]" + s, err
	case *ast.SelectorExpr:
		pkg, ok := e.X.(*ast.Ident)
		if !ok || imports[pkg.Name] == "" {
			return "", fmt.Errorf("type %v: unknown package", e.X)
		}
		used[imports[pkg.Name]] = true
		return pkg.Name + "." + e.Sel.Name, nil
	}
	return "", fmt.Errorf("unsupported type expression %T", e)
}
