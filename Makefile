# `make test` is the whole test suite (README, .ci/run): it builds and
# installs gofutures into $(PYTHON), then runs the Go tests with the race
# detector (FuzzReadFrame's seed corpus runs there as a plain test) and the
# Python tests. pytest's "no tests ran" (exit 5) fails.
# `make fuzz` fuzzes the frame decoder for a number of inputs, not a time:
# a loaded machine makes it slower, never makes it fail.
PYTHON ?= python3
GO ?= go

.PHONY: test install gotest pytest fuzz

test: install gotest pytest

install:
	$(PYTHON) -m pip install -q --disable-pip-version-check ".[test]"

gotest:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

FUZZTIME ?= 100000x
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzReadFrame -fuzztime=$(FUZZTIME) -timeout=0 ./core

# Two pytest processes, each taking whole test files (a file's fixtures are
# set up once): most tests wait on worker processes, so two halve the time.
PYTEST_PARALLEL ?= -n 2 --dist loadfile
pytest:
	@$(PYTHON) -m pytest -q $(PYTEST_PARALLEL) tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no test" >&2; exit 1; fi; exit $$rc

# Packaging (README, "Installing"): the sdist into dist/ (needs `build`, in
# the test extra, and Go for vendor/), manylinux wheels into build/wheelhouse/.
.PHONY: sdist wheels
sdist:
	$(PYTHON) -m build --sdist

wheels:
	tools/build-wheels.sh
