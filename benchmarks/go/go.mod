// Diagnostics for the engine (not part of the build: a separate module, so
// the repository's `go vet ./...` and `go test ./...` do not include it).
module github.com/gofutures/gofutures/benchmarks/go

go 1.22
