# Pedigree: `make demo` builds the tool and the sample family and compares them;
# `make test` runs the test suite. Both install the system libraries they need first.

SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
DEBIAN_PACKAGES := libopenblas-dev liblapack-dev liblapacke-dev libzstd-dev
FAMILY := Samples/family
PEDIGREE := .build/release/pedigree

.PHONY: deps build samples demo test clean

# Installs the Debian packages that are missing (apt-get update only when one is).
deps:
	@missing=""; \
	if command -v dpkg-query >/dev/null 2>&1; then \
	  for p in $(DEBIAN_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	  done; \
	else \
	  echo "deps: no dpkg here: make sure OpenBLAS, LAPACKE and zstd (headers and libraries) are installed" >&2; \
	fi; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "deps: installing$$missing"; \
	  $$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

build: deps
	$(SWIFT) build -c release

samples: build
	.build/release/pedigree-samples $(FAMILY)

demo: samples
	$(PEDIGREE) compare $(FAMILY)/base $(FAMILY)/finetune
	$(PEDIGREE) compare $(FAMILY)/base $(FAMILY)/unrelated
	$(PEDIGREE) compare $(FAMILY)/base $(FAMILY)/base-Q8_0.gguf
	$(PEDIGREE) inspect $(FAMILY)/base-Q8_0.gguf

test: deps
	$(SWIFT) test

clean:
	rm -rf .build $(FAMILY)
