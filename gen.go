package kelviqgo

// Regenerate package api from openapi.json: `go generate ./...` (or make generate).
//
// 1. oapi-codegen (pinned as a tool in go.mod) writes api/api.gen.go: models
//    and ClientWithResponses, configured by api/oapi-codegen.yaml and the
//    defect-fixing overlay api/overlay.yaml.
// 2. Our generator internal/cmd/genoperations reads openapi.json with
//    kin-openapi and writes api/operations.gen.go: the operation table
//    (method, path, security, servers per environment, pagination, declared
//    success statuses) that package kelviq routes, authenticates and judges
//    responses by, and kelviq/pagination.gen.go: one page iterator per
//    page-numbered list operation (ListCustomersIter …),
//    kelviq/pathparams.gen.go: the checks that keep a path parameter such
//    as ".." from sending a call to another operation, and
//    kelviq/calls.gen.go: the XxxWithResponse methods of kelviq.Client, which
//    name the operation, status and Content-Type of a body that does not
//    decode. From the same table it writes the operation index: api/doc.go
//    (the package doc of api), api/operationids.gen.go
//    (OpListCustomers = "listCustomers" …) and API.md.
// 3. internal/cmd/genaccessors reads api/api.gen.go (go/ast) and writes
//    api/accessors.gen.go: a nil-safe GetX() for every pointer or nullable
//    field of every model type, and api/models_gen_test.go, the list of
//    model types the tests of package api walk by reflection.

//go:generate go tool oapi-codegen -config api/oapi-codegen.yaml openapi.json
//go:generate go run ./internal/cmd/genoperations -spec openapi.json -out api/operations.gen.go -iterators kelviq/pagination.gen.go -doc api/doc.go -ids api/operationids.gen.go -index API.md -guards kelviq/pathparams.gen.go -calls kelviq/calls.gen.go
//go:generate go run ./internal/cmd/genaccessors -dir api -models api.gen.go -out accessors.gen.go -models-test models_gen_test.go
