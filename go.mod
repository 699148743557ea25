module github.com/gofutures/gofutures

go 1.22
