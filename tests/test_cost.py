"""Hourly cost of a stack from the catalog's prices."""

from renderers.cost import hourly_cost
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
