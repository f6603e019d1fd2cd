package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"strings"
)

// RenderWithResponse returns the Go source of kelviq/calls.gen.go: every
// XxxWithResponse method of the generated api.ClientWithResponses, again on
// kelviq.Client, doing what the generated one does (send through
// ClientInterface, then ParseXxxResult) except that a body the parser
// cannot read becomes an error that names the operation, its status and
// Content-Type (kelviq's undecodable), instead of a bare "unexpected end
// of JSON input", and so is a declared JSON body that is the literal null
// (kelviq's nullBody), which the parser decodes into a zero value, and a
// 2xx status the operation does not declare (kelviq's undeclared), for
// which the parser fills no JSONxxx field. kelviq's parseResult runs the
// parser (and decodes once more a body whose integer is spelled 10.0 or
// 1e1). The methods are read from clientSrc (api/api.gen.go):
// each generated body is `rsp, err := c.<Send>(args…); …; return
// <Parse>(rsp)`, and anything else fails generation.
func RenderWithResponse(t *Table, clientSrc []byte, pkg, apiImport string) ([]byte, error) {
	f, imports, err := parseClient(clientSrc)
	if err != nil {
		return nil, err
	}
	byGoName := t.byGoName()
	used := map[string]bool{}
	var body bytes.Buffer
	n := 0
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv == nil || !strings.HasSuffix(fd.Name.Name, "WithResponse") || recvName(fd) != "ClientWithResponses" {
			continue
		}
		name := fd.Name.Name
		send, parse, err := sendAndParse(fd)
		if err != nil {
			return nil, fmt.Errorf("ClientWithResponses.%s: %w", name, err)
		}
		op := operationOf(byGoName, send)
		if op == nil {
			return nil, fmt.Errorf("ClientWithResponses.%s sends with %s, which belongs to no operation of the table", name, send)
		}
		args, err := funcArgs(fd.Type, imports, used)
		if err != nil {
			return nil, fmt.Errorf("ClientWithResponses.%s: %w", name, err)
		}
		results, err := fieldList(fd.Type.Results, imports, used)
		if err != nil {
			return nil, fmt.Errorf("ClientWithResponses.%s: %w", name, err)
		}
		decl, call := signature(args)
		if len(op.Success) == 0 {
			return nil, fmt.Errorf("%s declares no success status", op.ID)
		}
		fmt.Fprintf(&body, "\n// %s calls %s (%s %s)\n// as [api.ClientWithResponses.%s] does; a success status the\n// operation does not declare, or a success body it cannot read, is an\n// error wrapping ErrUnexpectedResponse.\n", name, op.ID, op.Method, op.Path, name)
		fmt.Fprintf(&body, "func (c *Client) %s(%s) (%s) {\n", name, decl, results)
		fmt.Fprintf(&body, "rsp, err := c.ClientInterface.%s(%s)\nif err != nil {\nreturn nil, err\n}\n", send, call)
		// The declared statuses inline: the parser leaves every JSONxxx nil
		// on a status it does not know, with no error.
		var conds []string
		for _, s := range op.Success {
			conds = append(conds, fmt.Sprintf("s != %d", s))
		}
		fmt.Fprintf(&body, "if s := rsp.StatusCode; %s {\nreturn nil, c.undeclared(%q, rsp, %s)\n}\n", strings.Join(conds, " && "), op.ID, successList(op.Success))
		fmt.Fprintf(&body, "return parseResult(c, %q, rsp, api.%s)\n}\n", op.ID, parse)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("the generated client has no ClientWithResponses methods")
	}
	return clientFile(pkg, apiImport, used, body.Bytes())
}

func recvName(fd *ast.FuncDecl) string {
	if len(fd.Recv.List) != 1 {
		return ""
	}
	if star, ok := fd.Recv.List[0].Type.(*ast.StarExpr); ok {
		if id, ok := star.X.(*ast.Ident); ok {
			return id.Name
		}
	}
	return ""
}

// sendAndParse reads a generated XxxWithResponse body: the ClientInterface
// method it sends with and the parse function it returns through.
func sendAndParse(fd *ast.FuncDecl) (send, parse string, err error) {
	stmts := fd.Body.List
	if len(stmts) != 3 {
		return "", "", fmt.Errorf("%d statements, want 3 (send, check, parse): the generator's template changed", len(stmts))
	}
	if as, ok := stmts[0].(*ast.AssignStmt); ok && len(as.Rhs) == 1 {
		if ce, ok := as.Rhs[0].(*ast.CallExpr); ok {
			if sel, ok := ce.Fun.(*ast.SelectorExpr); ok {
				send = sel.Sel.Name
			}
		}
	}
	if rs, ok := stmts[2].(*ast.ReturnStmt); ok && len(rs.Results) == 1 {
		if ce, ok := rs.Results[0].(*ast.CallExpr); ok {
			if id, ok := ce.Fun.(*ast.Ident); ok {
				parse = id.Name
			}
		}
	}
	if send == "" || !strings.HasPrefix(parse, "Parse") {
		return "", "", fmt.Errorf("not the shape `rsp, err := c.X(…); if err != nil {…}; return ParseY(rsp)`: the generator's template changed")
	}
	return send, parse, nil
}

// successList is the Go source of the statuses as the literal string
// kelviq's undeclared names them by ("201", "200 or 201").
func successList(statuses []int) string {
	parts := make([]string, len(statuses))
	for i, s := range statuses {
		parts[i] = fmt.Sprint(s)
	}
	return fmt.Sprintf("%q", strings.Join(parts, " or "))
}
