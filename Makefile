# fieldcrm: `make run` brings the product up, `make test` runs every check.
# Both run `make setup` first, which is idempotent (seconds on a second run).
VENV := .venv/bin

.PHONY: setup run test lint typecheck imports pytest stop doctor

setup:
	@bash scripts/setup

run: setup
	$(VENV)/fieldcrm up

test: setup lint typecheck imports pytest

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

typecheck:
	$(VENV)/mypy

imports:
	$(VENV)/lint-imports

pytest:
	$(VENV)/pytest

stop:
	$(VENV)/fieldcrm services stop

doctor:
	$(VENV)/fieldcrm doctor
