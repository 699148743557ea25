module github.com/gofutures/gofutures

go 1.22

require (
	github.com/go-python/gopy v0.4.10
	golang.org/x/sys v0.30.0
)

require golang.org/x/sync v0.11.0
