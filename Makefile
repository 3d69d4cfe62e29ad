# One entry point for the project. `make help` lists the targets.
#
#   make scenario=rush-hour     run a scenario (release build), report in reports/<scenario>/latest/
#   make test                   every test of the workspace
#   make ci                     what CI runs: format check, clippy -D warnings, tests

scenario ?= rush-hour
ARGS ?=
CARGO ?= cargo
HARNESS := target/release/harness
SERVER := target/release/reference-server
VENV := .venv
SCHEMATHESIS := schemathesis==4.32.5

.DEFAULT_GOAL := run
.PHONY: run help build release test ci fmt lint serve proxy compare capacity bench fuzz clean-reports tools validate-manifests chromium

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

run: release ## run scenarios/$(scenario).toml against the bundled server (ARGS="--duration 30s ...")
	$(HARNESS) run scenarios/$(scenario).toml $(ARGS)

release: ## build the release binaries
	$(CARGO) build --release --workspace --bins

build: ## debug build of everything, tests included
	$(CARGO) build --workspace --all-targets

test: tools ## run every test
	$(CARGO) test --workspace

fmt: ## format the code
	$(CARGO) fmt --all

lint: ## clippy with warnings as errors
	$(CARGO) clippy --workspace --all-targets -- -D warnings

ci: tools ## format check, clippy -D warnings, tests, manifests
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --workspace
	$(MAKE) validate-manifests

serve: release ## the reference server on 127.0.0.1:8080 with its gateway simulator on :8081
	@mkdir -p .data
	@$(SERVER) gateway --listen 127.0.0.1:8081 & gw=$$!; \
	 trap 'kill $$gw 2>/dev/null' EXIT INT TERM; \
	 $(SERVER) --listen 127.0.0.1:8080 --data-dir .data --payment-gateway-url http://127.0.0.1:8081 $(ARGS)

proxy: release ## the built-in Toxiproxy-compatible fault proxy on 127.0.0.1:8474
	$(HARNESS) proxy $(ARGS)

compare: release ## rush-hour against the reference server's default and naive profiles, one report
	$(HARNESS) run scenarios/$(scenario).toml --target bundled:default --target bundled:naive $(ARGS)

capacity: release ## highest arrival rate that meets the SLO: the scenario's [capacity] slo, or SLO="p95<250ms for GET /menu,shed-rate<1%"
	$(HARNESS) capacity scenarios/$(scenario).toml $(if $(SLO),--slo "$(SLO)") $(ARGS)

bench: ## benchmarks: prints every figure the issues name, side by side with wrk/oha
	bash bench/run.sh

tools: .venv/.tools-installed chromium ## the tools the tests use: Python ones in .venv/ (HdrHistogram's reader, kubernetes-validate), headless Chromium

chromium: # the dashboard's browser test: Debian's chromium, installed when missing
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq chromium; }

.venv/.tools-installed: tools/requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	touch $@

validate-manifests: tools ## render deploy/kubernetes and validate it against the Kubernetes API schemas, offline
	.venv/bin/python tools/render_kustomize.py deploy/kubernetes > .venv/rendered.yaml
	.venv/bin/kubernetes-validate --strict --quiet .venv/rendered.yaml
	@echo "deploy/kubernetes: every manifest validates"

fuzz: $(VENV)/bin/st ## contract check: schemathesis, all checks, on the server's /openapi.json (FUZZ_SECONDS=100 a pass)
	$(CARGO) build -p reference-server
	bash reference-server/fuzz/run.sh

$(VENV)/bin/st: # schemathesis from PyPI in a project-local, git-ignored virtual environment
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet '$(SCHEMATHESIS)'

clean-reports: ## delete every run report
	find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
