# Every target a user needs; `make help` lists them.
SHELL := /bin/bash
GO ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/checkout-idem
export DYNAMODB_LOCAL_DIR ?= $(CACHE)/dynamodb-local-2.9.30
export STRIPE_MOCK_BIN ?= $(GOBIN)/stripe-mock
export CHROMIUM ?= /usr/bin/chromium
STRIPE_MOCK_VERSION := v0.203.0
PEER := bench/powertools
LAMBDA_FLAGS := CGO_ENABLED=0 GOOS=linux GOARCH=arm64
LAMBDA_BUILD := $(GO) build -trimpath -ldflags "-s -w" -tags lambda.norpc
PORT ?= 3000

.PHONY: help run test tools bench-deps build bench fuzz dynamodb-local fmt vet lint deploy clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-24s %s\n", $$1, $$2}'

run: ## serve the API on http://localhost:$(PORT) (in-memory store, local payments)
	PORT=$(PORT) $(GO) run ./cmd/local

test: tools vet ## run every test under the race detector, against DynamoDB Local and stripe-mock
	$(GO) test -race -count=1 -timeout 15m ./...

tools: $(DYNAMODB_LOCAL_DIR)/DynamoDBLocal.jar $(STRIPE_MOCK_BIN) $(CHROMIUM) bench-deps ## install the test dependencies (cached)

bench-deps: $(PEER)/node_modules/.package-lock.json ## install the Powertools peer's npm packages, as its package-lock.json pins them (cached)

$(PEER)/node_modules/.package-lock.json: $(PEER)/package-lock.json
	bash scripts/install-powertools-peer.sh

$(CHROMIUM):
	bash scripts/install-chromium.sh

$(DYNAMODB_LOCAL_DIR)/DynamoDBLocal.jar:
	bash scripts/install-dynamodb-local.sh

$(STRIPE_MOCK_BIN):
	GOFLAGS= $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

dynamodb-local: $(DYNAMODB_LOCAL_DIR)/DynamoDBLocal.jar ## run DynamoDB Local on :8000 (then DYNAMODB_ENDPOINT=http://localhost:8000 make run)
	java -Djava.library.path=$(DYNAMODB_LOCAL_DIR)/DynamoDBLocal_lib -jar $(DYNAMODB_LOCAL_DIR)/DynamoDBLocal.jar -inMemory -sharedDb -port $(or $(DYNAMODB_PORT),8000)

build: ## build both Lambda bootstraps for linux/arm64 into bin/
	$(MAKE) build-CheckoutFunction ARTIFACTS_DIR=bin/checkout
	$(MAKE) build-WebhookFunction ARTIFACTS_DIR=bin/webhook

build-CheckoutFunction: ## sam build target: checkout bootstrap into $(ARTIFACTS_DIR)
	$(LAMBDA_FLAGS) $(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/checkout

build-WebhookFunction: ## sam build target: webhook bootstrap into $(ARTIFACTS_DIR)
	$(LAMBDA_FLAGS) $(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/webhook

bench: tools ## idem benchmarks (bench/idem.txt); load, side by side with Powertools, capacity, a 1,000-duplicate storm and cold starts (cmd/loadgen) into bench/REPORT.md and its charts
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -count 1 ./internal/idem/ | tee bench/idem.txt
	$(GO) run ./cmd/loadgen -out bench -coldstart -peer -capacity -storm-duplicates 1000

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

lint: vet ## alias of vet

deploy: ## sam build && sam deploy (run `sam deploy --guided` once first)
	sam build && sam deploy

clean: ## remove build output
	rm -rf bin .aws-sam
