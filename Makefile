# The suite's commands. A newcomer needs two: `make dev` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
# Dev runs the demo on the default ports; see the README for every variable.
# A fixed key seals the demo's messenger tokens and shops' SMTP passwords (for
# trying the suite only; shops' SMTP servers may be local there); the
# fake messengers the demo shop is connected to serve on 127.0.0.1:8091, and a
# mail catcher takes every e-mail (SMTP 127.0.0.1:1025, read on :1080).
DEV_ENV := GATEWAY_DEV_PAGE=true GATEWAY_SEED_DEMO=true GATEWAY_DEMO_SHOP_ADDR=127.0.0.1:8088 \
	BRIDGE_SECRET_KEYS=dev:ZGV2LW9ubHktbm90LWEtc2VjcmV0LWtleS0wMDAwMDA= DEV_FAKES_ADDR=127.0.0.1:8091 \
	NOTIFICATION_SECRET_KEYS=dev:ZGV2LW9ubHktbm90LWEtc2VjcmV0LWtleS0wMDAwMDA= NOTIFICATION_SHOP_SMTP_ANY_HOST=true \
	BRIDGE_PUBLIC_URL=http://127.0.0.1:8090 \
	DEV_MAIL_CATCHER=deploy/dev/mailcatcher/node_modules/.bin/maildev DEV_MAIL_WEB_PORT=1080

.PHONY: deps dev test unit lint fmt fmt-check sqlx-prepare sqlx-check bench chaos images k8s-check clean-test-data

## deps: make sure PostgreSQL and NATS (JetStream) run here; install them if missing
deps:
	@bash deploy/dev/ensure-deps.sh

## dev: run all five services with the demo shop and manager, and the dev chat page
dev: deps
	$(CARGO) build -p chat-suite --bin chat-suite
	$(DEV_ENV) $(CARGO) run -q -p chat-suite --bin chat-suite

## test: formatting, clippy, then every test (unit, integration, end-to-end)
test: deps fmt-check sqlx-check lint
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc

## lint: clippy on everything, warnings are errors
lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

## sqlx-prepare: write the offline data of the compile-time checked queries (after changing one, or a migration)
sqlx-prepare: deps
	bash deploy/dev/sqlx-prepare.sh

## sqlx-check: fail when the committed offline data of the checked queries are out of date
sqlx-check: deps
	bash deploy/dev/sqlx-prepare.sh --check

## bench: the load generator against a release build of the suite; figures go to BENCHMARKS.md
bench: deps
	$(CARGO) build --release -p gateway -p dialog -p contact -p notification -p channel-bridge -p chat-loadgen
	bash deploy/bench/run.sh

## chaos: the message path under load while each service, NATS and PostgreSQL is killed in turn; fails on any loss
chaos: deps
	$(CARGO) build --release -p gateway -p dialog -p contact -p notification -p channel-bridge -p chat-loadgen
	target/release/chat-loadgen chaos

## images: the container image of the suite (needs a Docker engine)
images:
	docker build -f deploy/Dockerfile -t chat-suite:dev .

## k8s-check: render the Kubernetes manifests (needs kubectl)
k8s-check:
	kubectl kustomize k8s/overlays/dev >/dev/null
	@echo "k8s manifests render"
