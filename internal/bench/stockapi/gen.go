// Package stockapi is the benchmark reference: the client oapi-codegen
// generates for two list operations with the stock nullable type
// (github.com/oapi-codegen/nullable, a map per nullable field), to compare
// package api's decoding against. See BENCHMARKS.md.
package stockapi

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../../../openapi.json
