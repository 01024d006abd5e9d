"""One source of truth for the LiteLLM version: the image the stacks run is the proxy the
tests run."""

import re
import tomllib
from importlib import metadata

import pytest

from config.images import DEFAULT_LITELLM_IMAGE, LITELLM_TAGS, ImageRef, format_version
from tests.support.stacks import ROOT, stack_raw_config

DEFAULT_VERSION = format_version(
    ImageRef.parse(DEFAULT_LITELLM_IMAGE).release_version(LITELLM_TAGS)
)


def pinned_test_proxy_version() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (requirement,) = [r for r in project["dependency-groups"]["dev"] if r.startswith("litellm")]
    return re.fullmatch(r"litellm\[proxy\]==([\d.]+)", requirement)[1]


def test_the_test_proxy_is_pinned_to_the_default_image_version():
    assert pinned_test_proxy_version() == DEFAULT_VERSION


def test_the_installed_proxy_is_the_pinned_one():
    assert metadata.version("litellm") == DEFAULT_VERSION


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_stack_runs_the_default_litellm_image(stack):
    assert stack_raw_config(stack)["images"]["litellm"] == DEFAULT_LITELLM_IMAGE
