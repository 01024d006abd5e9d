"""Cost of a stack from the catalog's prices: per hour, per month with and without a
schedule."""

import pytest

from renderers.cost import hourly_cost, monthly_cost
from tests.config_cases import valid


def test_dev_costs_one_l4_host(dev_raw):
    assert hourly_cost(valid(dev_raw)).total == 0.80


def test_prod_costs_its_four_hosts_including_a_stack_catalog_price(prod_raw):
    cost = hourly_cost(valid(prod_raw))
    assert cost.by_host == {"chat-1": 10.49, "chat-2": 10.49, "embed-1": 0.80, "router": 0.18}
    assert cost.total == 21.96


def test_a_stack_price_override_changes_the_cost(dev_raw):
    dev_raw["catalog"] = {"instances": {"g6.xlarge": {"usd_per_hour": 0.5}}}
    assert hourly_cost(valid(dev_raw)).total == 0.5


def test_the_cost_says_when_its_prices_were_read(dev_raw):
    assert hourly_cost(valid(dev_raw)).prices_as_of == "2026-11"


def test_without_a_schedule_a_month_is_730_hours(dev_raw):
    del dev_raw["schedule"]

    cost = monthly_cost(valid(dev_raw))

    assert (cost.always_on, cost.scheduled, cost.hours_per_week) == (584.0, None, None)


def test_the_dev_stacks_weekday_working_hours_cost_65_of_168_hours_a_week(dev_raw):
    cost = monthly_cost(valid(dev_raw))

    assert cost.hours_per_week == 65.0
    assert cost.scheduled == round(0.80 * 65 * 730 / 168, 2) == 225.95
    assert cost.always_on == 584.0


def test_a_schedule_stopping_one_hour_a_week_costs_167_168ths_of_always_on(dev_raw):
    dev_raw["schedule"] = {
        "start": "cron(0 1 ? * MON *)",
        "stop": "cron(0 0 ? * MON *)",
        "timezone": "UTC",
    }

    cost = monthly_cost(valid(dev_raw))

    assert cost.hours_per_week == 167.0
    assert cost.scheduled == pytest.approx(cost.always_on * 167 / 168, abs=0.01)
