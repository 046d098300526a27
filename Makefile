# The README's commands. Each script installs what it is missing.
.PHONY: run test bench openapi fmt

run:  ## the site with embedded defaults at http://localhost:8080
	bash scripts/run.sh

test:  ## fmt, clippy and every test on SQLite, MariaDB, PostgreSQL and Redis
	bash scripts/test.sh

bench:  ## benchmarks; results and plots in docs/benchmarks.md
	bash scripts/bench.sh $(SCENARIO)

openapi:  ## regenerate openapi.yaml from the code
	CARGO_TARGET_DIR=$${CARGO_TARGET_DIR:-/var/tmp/luojia-target} cargo run -q -p luojia -- openapi > openapi.yaml.tmp && mv openapi.yaml.tmp openapi.yaml

fmt:
	cargo fmt --all
