# Every target a user needs; `make help` lists them.
SHELL := /bin/bash
GO ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/checkout-idem
export DYNAMODB_LOCAL_DIR ?= $(CACHE)/dynamodb-local-2.9.30
export STRIPE_MOCK_BIN ?= $(GOBIN)/stripe-mock
export CHROMIUM ?= /usr/bin/chromium
export RIE_BIN ?= $(GOBIN)/aws-lambda-rie
STRIPE_MOCK_VERSION := v0.203.0
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(CACHE)/staticcheck-$(STATICCHECK_VERSION)/staticcheck
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
# arm64 as deployed; the emulator test builds the same bootstraps for the host (LAMBDA_ARCH=amd64).
LAMBDA_ARCH ?= arm64
LAMBDA_FLAGS := CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_ARCH)
LAMBDA_BUILD := $(GO) build -trimpath -ldflags "-s -w" -tags lambda.norpc,production
PEER := bench/powertools
PORT ?= 3000
HOST ?= 127.0.0.1

.PHONY: help run test tools bench-deps build bench fuzz dynamodb-local emulator webhook-events catalog fmt vet lint deploy clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/$$(HOST)/$(HOST)/; s/$$(PORT)/$(PORT)/; s/$$(LAMBDA_ARCH)/$(LAMBDA_ARCH)/' | \
		awk -F':.*## ' '{printf "  %-24s %s\n", $$1, $$2}'

# run builds, then runs the server in the foreground. On a terminal it runs as its own job
# (set -m; fg), so Ctrl-C reaches the server alone: it shuts down gracefully, exits 0, and make
# reports no error. Elsewhere (tests, CI) it replaces the shell, so SIGTERM reaches it.
run: ## serve the API on http://$(HOST):$(PORT) (in-memory store, local payments; HOST, PORT, ALLOWED_ORIGIN)
	$(GO) build -o bin/local ./cmd/local
	@if [ -t 0 ]; then set -m; HOST=$(HOST) PORT=$(PORT) bin/local & fg %1 >/dev/null; \
	else HOST=$(HOST) PORT=$(PORT) exec bin/local; fi

test: tools lint ## lint, then run every test under the race detector, against DynamoDB Local and stripe-mock
	$(GO) test -race -count=1 -timeout 15m ./...

tools: $(DYNAMODB_LOCAL_DIR)/DynamoDBLocal.jar $(STRIPE_MOCK_BIN) $(RIE_BIN) $(CHROMIUM) bench-deps ## install the test dependencies (cached)

bench-deps: $(PEER)/node_modules/.package-lock.json ## install the Powertools peer's npm packages, as its package-lock.json pins them (cached)

$(PEER)/node_modules/.package-lock.json: $(PEER)/package-lock.json
	bash scripts/install-powertools-peer.sh

$(CHROMIUM):
	bash scripts/install-chromium.sh

$(DYNAMODB_LOCAL_DIR)/DynamoDBLocal.jar:
	bash scripts/install-dynamodb-local.sh

$(STRIPE_MOCK_BIN):
	GOFLAGS= $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

$(STATICCHECK):
	GOFLAGS= GOBIN=$(dir $(STATICCHECK)) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(RIE_BIN):
	GOFLAGS= $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

emulator: $(DYNAMODB_LOCAL_DIR)/DynamoDBLocal.jar $(RIE_BIN) ## both bootstraps (host arch) under the official Lambda emulator, events/ payloads, DynamoDB Local
	$(GO) test -count=1 -v -run 'Emulator' ./internal/rie/

webhook-events: ## write a freshly signed events/webhook-stripe.json into bin/events/ for `sam local invoke`
	$(GO) run ./scripts/signwebhook -out bin/events

dynamodb-local: $(DYNAMODB_LOCAL_DIR)/DynamoDBLocal.jar ## run DynamoDB Local on :8000 (then DYNAMODB_ENDPOINT=http://localhost:8000 make run)
	java -Djava.library.path=$(DYNAMODB_LOCAL_DIR)/DynamoDBLocal_lib -jar $(DYNAMODB_LOCAL_DIR)/DynamoDBLocal.jar -inMemory -sharedDb -port $(or $(DYNAMODB_PORT),8000)

CATALOG_FILE ?= internal/catalog/sample.json
# TABLE is the stack's CatalogTableName output; DYNAMODB_ENDPOINT points it at DynamoDB Local
# (CATALOG_FLAGS=-create makes the table there). AWS credentials and Region: the SDK's chain.
catalog: ## load CATALOG_FILE into the catalog table TABLE (idempotent)
	@test -n "$(TABLE)" || { echo "TABLE=<catalog table name> is required (the stack's CatalogTableName output)"; exit 2; }
	$(GO) run ./cmd/catalog -file $(CATALOG_FILE) -table $(TABLE) $(CATALOG_FLAGS)

build: ## build the three Lambda bootstraps for linux/$(LAMBDA_ARCH) into bin/
	$(MAKE) build-CheckoutFunction ARTIFACTS_DIR=bin/checkout
	$(MAKE) build-WebhookFunction ARTIFACTS_DIR=bin/webhook
	$(MAKE) build-ReconcilerFunction ARTIFACTS_DIR=bin/reconciler

build-CheckoutFunction: ## sam build target: checkout bootstrap into $(ARTIFACTS_DIR)
	$(LAMBDA_FLAGS) $(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/checkout

build-WebhookFunction: ## sam build target: webhook bootstrap into $(ARTIFACTS_DIR)
	$(LAMBDA_FLAGS) $(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/webhook

build-ReconcilerFunction: ## sam build target: reconciler bootstrap into $(ARTIFACTS_DIR)
	$(LAMBDA_FLAGS) $(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/reconciler

bench: $(DYNAMODB_LOCAL_DIR)/DynamoDBLocal.jar bench-deps ## idem benchmarks (bench/idem.txt), the handler's CPU per request (bench/checkout.txt), the flash sale (bench/sale.txt); load, side by side with Powertools, capacity, a 1,000-duplicate storm and cold starts (cmd/loadgen) into bench/REPORT.md
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -count 1 ./internal/idem/ | tee bench/idem.txt
	set -o pipefail; $(GO) test -run '^$$' -bench Handler -benchmem -count 5 ./internal/checkout/ | tee bench/checkout.txt
	set -o pipefail; $(GO) test -run '^$$' -bench 'FlashSale|Storm' -benchtime 1x ./internal/sale/ | tee bench/sale.txt
	$(GO) run ./cmd/loadgen -out bench -coldstart -peer -capacity

fuzz: ## run every fuzz target for FUZZTIME each (default 30s); their seeds run in `make test`
	@for p in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$p | grep ^Fuzz); do \
			echo "== $$p $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(or $(FUZZTIME),30s) $$p || exit 1; \
		done; done

fmt: ## format the code
	gofmt -w .

vet: ## go vet and a formatting check
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt needed"; exit 1; }

lint: vet $(STATICCHECK) ## go vet, the formatting check, staticcheck (pinned, cached; checks off in staticcheck.conf), and cfn-lint on template.yaml before and after the SAM transform
	$(STATICCHECK) ./...
	python3 scripts/lint-template.py template.yaml

deploy: ## sam build && sam deploy (run `sam deploy --guided` once first)
	sam build && sam deploy

clean: ## remove build output
	rm -rf bin .aws-sam
