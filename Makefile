# `make test` is the whole test suite (README, .ci/run): it builds and
# installs gofutures into $(PYTHON), then runs the Go tests with the race
# detector and the Python tests. pytest's "no tests ran" (exit 5) fails.
PYTHON ?= python3
GO ?= go

.PHONY: test install gotest pytest

test: install gotest pytest

install:
	$(PYTHON) -m pip install -q --disable-pip-version-check ".[test]"

gotest:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	$(GO) test -run='^$$' -fuzz=FuzzReadFrame -fuzztime=10s ./core

pytest:
	@$(PYTHON) -m pytest -q tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no test" >&2; exit 1; fi; exit $$rc

# Packaging (README, "Installing"): the sdist into dist/ (needs `build`, in
# the test extra, and Go for vendor/), manylinux wheels into build/wheelhouse/.
.PHONY: sdist wheels
sdist:
	$(PYTHON) -m build --sdist

wheels:
	tools/build-wheels.sh
