"""Fuzzed stack configs: loading one either yields settings or raises one ConfigError whose
problems each name a key, never any other exception, in bounded time and memory.

Configs start from the dev, prod and minimal stacks and are changed within the schema
(valid), given bad values of the right type (invalid: the problem names the key), or broken
(malformed: wrong types, missing keys, huge numbers, unicode, empty maps, nested junk,
None). Values are what a stack file can hold once decoded: integers of any size (past the
4,300 digits Python's JSON and YAML readers take), floats including inf and nan, values
shared many times over (YAML aliases: 2^200 values once expanded) or containing themselves,
nesting past any setting. Whole stack configs are fuzzed as the engine passes them (other
namespaces, misspelt ones, secret keys), and stack files as text through the plan's reader.
Each property runs EXAMPLES examples per base stack, 5,500 in all (see the README for the
time); a failure prints the falsifying config and a `@reproduce_failure` blob.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from config.catalog import SEED_INSTANCES
from config.errors import ConfigError
from config.loader import KNOWN_KEYS, load_settings, load_stack
from config.ports import MONITORING_PORTS, VLLM_PORTS
from config.project import NAMESPACE
from config.rules.models import MANAGED_FLAGS
from config.settings import MetisVersion, Settings
from config.vllm_flags import UNSUPPORTED_FLAGS
from offline.stackfile import PlanError, read_stack_text
from tests.config_cases import valid, with_changes
from tests.support.stacks import EXAMPLE_KEY, stack_raw_config

pytestmark = pytest.mark.timeout(600)
"""A blow-up (an alias bomb walked whole) fails the run instead of hanging it."""

EXAMPLES = 250
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SECTIONS = ("hosts", "chat", "embedding", "router", "access", "images", "metis", "network")
METIS_VERSIONS = MetisVersion.__args__
HUGE_INTEGERS = st.integers(min_value=-(10**4299), max_value=10**4299)
"""As large as a JSON integer can be once decoded (Python refuses more than 4300 digits)."""
DEV = stack_raw_config("dev")


@pytest.fixture(params=["dev_raw", "prod_raw", "minimal_raw"])
def base(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A valid stack config to start from. Shared by every example of a test: copy it."""
    return request.getfixturevalue(request.param)


def load(raw: dict[str, Any], **options: Any) -> Settings | ConfigError:
    """Settings, or the ConfigError checked to be one message naming config keys. Any other
    exception propagates and fails the test."""
    try:
        return load_settings(raw, **options)
    except ConfigError as error:
        return well_formed(error)


def well_formed(error: ConfigError, *, own_keys_only: bool = True) -> ConfigError:
    message = str(error)
    assert error.problems, "a ConfigError without problems"
    assert error.args == (message,)
    assert len(message) < 2000 * len(error.problems), "a problem shown unbounded"
    for problem in error.problems:
        assert isinstance(problem.key, str)
        if own_keys_only:
            assert problem.key.startswith(f"{NAMESPACE}:"), problem.key
        assert str(problem) in message
    return error


def first_host(raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    hosts = raw.get("hosts") or {"gpu-1": {}}
    name = next(iter(hosts))
    return name, dict(hosts[name] or {})


def host_change(raw: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The hosts section with some fields of the first host changed."""
    name, config = first_host(raw)
    return {**(raw.get("hosts") or {}), name: {**config, **fields}}


# Valid: changed within the schema

narrow_cidrs = st.one_of(
    st.builds(
        ipaddress.IPv4Network,
        st.tuples(st.integers(0, 2**32 - 1), st.integers(12, 32)),
        strict=st.just(False),
    ),
    st.builds(
        ipaddress.IPv6Network,
        st.tuples(st.integers(0, 2**128 - 1), st.integers(20, 128)),
        strict=st.just(False),
    ),
).map(str)
"""Blocks of at most a /12 (IPv4) or a /20 (IPv6): five of them stay below what counts as
the internet (config.exposure)."""


TAKEN_PORTS = {*VLLM_PORTS, *MONITORING_PORTS}
"""Ports the router may not take: the vLLM servers' and the monitoring's."""


@st.composite
def router_changes(draw: st.DrawFn) -> dict[str, Any]:
    cidrs = draw(st.lists(narrow_cidrs, min_size=1, max_size=5, unique=True))
    public = draw(st.booleans())
    if public:
        cidrs += draw(st.lists(st.sampled_from(["0.0.0.0/0", "::/0"]), max_size=2, unique=True))
    return {
        "port": draw(st.integers(1024, 65535).filter(lambda port: port not in TAKEN_PORTS)),
        "num_workers": draw(st.integers(1, 64)),
        "timeout_seconds": draw(st.integers(10, 3600)),
        "allowed_cidrs": cidrs,
        "allow_public": public,
    }


def idle_stop_outlasting(router: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """An idle window longer than the router's timeout (config.rules.power)."""
    return st.fixed_dictionaries(
        {"minutes": st.integers(router["timeout_seconds"] // 60 + 1, 1440)}
    )


SAFE_VLLM_FLAGS = ["--enable-prefix-caching", "--enforce-eager", "--max-num-seqs=64"]

valid_changes = router_changes().flatmap(
    lambda router: st.fixed_dictionaries(
        {"router": st.just(router), "idle_stop": idle_stop_outlasting(router)},
        optional={
            "metis": st.fixed_dictionaries(
                {},
                optional={
                    "version": st.sampled_from(METIS_VERSIONS),
                    "temperature": st.floats(0, 2),
                    "query_max_tokens": st.integers(1, 1024),
                },
            ),
            "images": st.fixed_dictionaries(
                {},
                optional={
                    # Metis 1.4+ reviews need vLLM >= 0.25.1 (config.rules.tool_calling).
                    "vllm": st.builds(
                        "vllm/vllm-openai:v0.{}.{}".format, st.integers(26, 40), st.integers(0, 9)
                    ),
                    "litellm": st.builds(
                        "ghcr.io/berriai/litellm:v1.{}.{}".format,
                        st.integers(108, 140),
                        st.integers(0, 20),
                    ),
                },
            ),
            "chat": st.fixed_dictionaries(
                {},
                optional={
                    # "chat-..." never equals an embedding served name.
                    "served_name": st.text(
                        st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=190
                    ).map(lambda text: f"chat-{text}".rstrip()),
                    "extra_args": st.lists(st.sampled_from(SAFE_VLLM_FLAGS), unique=True),
                },
            ),
        },
    )
)


@FUZZ
@given(changes=valid_changes, has_hf_token=st.booleans())
def test_configs_changed_within_the_schema_load(base, changes, has_hf_token):
    loaded = load(with_changes(base, **changes), has_hf_token=has_hf_token)
    assert isinstance(loaded, Settings), str(loaded)
    assert loaded.router.model_dump(include=set(changes["router"])) == changes["router"]


# Invalid: a bad value of the right type, reported at its key


def not_matching(pattern: str) -> st.SearchStrategy[str]:
    regex = re.compile(pattern)
    return st.text().filter(lambda text: not regex.match(text))


def not_a_cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError:
        return True
    return False


def respelt_block(network: str) -> st.SearchStrategy[str]:
    """Other spellings AWS would take differently: bare, with a netmask, upper case."""
    block = ipaddress.ip_network(network)
    spellings = [str(block.network_address).upper(), block.with_netmask, network.upper()]
    return st.sampled_from([text for text in spellings if text != network] or ["x"])


bad_cidrs = st.one_of(
    st.text().filter(not_a_cidr),
    # host bits set, prefixes too long, the world with host bits
    st.builds("{}/{}".format, st.ip_addresses(), st.integers(0, 129)).filter(not_a_cidr),
    # the world, or more public addresses than a /8, while the config does not say allow_public
    st.sampled_from(["0.0.0.0/0", "::/0", "0.0.0.0/1", "128.0.0.0/1", "2000::/3", "16.0.0.0/7"]),
    # bare addresses, netmasks, upper case
    narrow_cidrs.flatmap(respelt_block).filter(lambda text: text != "x"),
)
world_unions = st.sampled_from(
    [
        ["16.0.0.0/8", "17.0.0.0/8"],
        ["2a00::/16", "2a01::/16"],
        ["20.0.0.0/9", "20.128.0.0/9", "21.0.0.0/9"],
    ]
)
"""Blocks that are the internet only together: the problem is at the list."""


def respelt_flag(flag: str) -> st.SearchStrategy[str]:
    """A refused vLLM flag as vLLM still reads it: `_` for `-`, `=value`, cut short."""
    body = flag[2:]
    return st.builds(
        lambda swaps, cut, value: (
            "--"
            + "".join(
                "_" if c == "-" and swap else c for c, swap in zip(body, swaps, strict=False)
            )[:cut]
            + value
        ),
        st.lists(st.booleans(), min_size=len(body), max_size=len(body)),
        st.integers(1, len(body)),
        st.sampled_from(["", "=2", "=x"]),
    )


refused_flags = sorted(
    f for f in {**MANAGED_FLAGS, **UNSUPPORTED_FLAGS} if f.startswith("--") and f != "--"
)
ECDSA_KEY = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7"
    "opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg= me@host"
)
control_text = st.text(min_size=1, max_size=20).filter(
    lambda text: any(ord(c) < 32 or ord(c) == 127 for c in text)
)
rolling_tags = st.sampled_from(["", ":latest", ":nightly", ":main", ":stable", ":latest-cu128"])
host_names = st.from_regex(r"\A[a-z][a-z0-9-]{0,23}\Z")


def invalid_changes(raw: dict[str, Any]) -> st.SearchStrategy[tuple[dict[str, Any], str]]:
    """(sections to change, the key the problem must name)."""
    host, _ = first_host(raw)
    hosts = raw.get("hosts") or {"gpu-1": {}}
    known_keys = KNOWN_KEYS | {"catalog"}

    def at(section: str, field: str, values: st.SearchStrategy, key: str | None = None):
        return values.map(
            lambda value: ({section: {field: value}}, key or f"{NAMESPACE}:{section}.{field}")
        )

    return st.one_of(
        at("router", "port", HUGE_INTEGERS.filter(lambda port: not 1024 <= port <= 65535)),
        at("router", "num_workers", st.one_of(st.integers(max_value=0), st.integers(min_value=65))),
        at("router", "timeout_seconds", st.one_of(st.integers(max_value=9), st.integers(3601))),
        at("router", "host", host_names.filter(lambda name: name not in hosts)),
        at(
            "router",
            "allowed_cidrs",
            st.tuples(bad_cidrs).map(list),
            f"{NAMESPACE}:router.allowed_cidrs[0]",
        ),
        at(
            "chat",
            "hosts",
            st.tuples(host_names.filter(lambda name: name not in hosts)).map(list),
            f"{NAMESPACE}:chat.hosts[0]",
        ),
        at(
            "chat",
            "gpu_memory_utilization",
            st.one_of(st.floats(max_value=0), st.floats(0.95, exclude_min=True)),
        ),
        at("chat", "max_model_len", st.integers(max_value=15)),
        at("chat", "tensor_parallel_size", st.sampled_from([3, 5, 6, 7, 12, 24])),
        at(
            "router",
            "allowed_cidrs",
            world_unions,
            f"{NAMESPACE}:router.allowed_cidrs",
        ),
        at(
            "router",
            "allowed_cidrs",
            narrow_cidrs.map(lambda block: [block, block]),
            f"{NAMESPACE}:router.allowed_cidrs[1]",
        ),
        at(
            "chat",
            "extra_args",
            st.sampled_from(refused_flags).flatmap(respelt_flag).map(lambda flag: [flag, "2"]),
            f"{NAMESPACE}:chat.extra_args[0]",
        ),
        at(
            "chat",
            "extra_args",
            st.tuples(st.sampled_from(["-tp", "-pp", "-dp", "-q", "-t", "-p", "-n", "-r"])).map(
                list
            ),
            f"{NAMESPACE}:chat.extra_args[0]",
        ),
        at("chat", "served_name", st.one_of(control_text, st.text(max_size=20).map("-{}".format))),
        at("embedding", "served_name", st.text(max_size=20).map(" {} ".format)),
        at("access", "ssh_public_key", st.just(ECDSA_KEY)),
        at("access", "ssh_identity_file", st.just("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA")),
        at("images", "vllm", rolling_tags.map("vllm/vllm-openai{}".format)),
        at("images", "litellm", rolling_tags.map("ghcr.io/berriai/litellm{}".format)),
        at(
            "images",
            "litellm",
            st.sampled_from(["py3.13-v1.82.7", "latest-v1.108.7", "1.108.7", "v1.82.7-stable"]).map(
                "ghcr.io/berriai/litellm:{}".format
            ),
        ),
        at(
            "images",
            "vllm",
            st.sampled_from(["  vllm/vllm-openai:v0.32.0", "vllm/vllm-openai:v0.32.0\n"]),
        ),
        at(
            "metis",
            "temperature",
            st.one_of(
                st.floats(max_value=0, exclude_max=True), st.floats(min_value=2, exclude_min=True)
            ),
        ),
        at("metis", "query_max_tokens", st.integers(max_value=0)),
        at("metis", "version", st.text().filter(lambda text: text not in METIS_VERSIONS)),
        at("access", "mode", st.text().filter(lambda text: text not in ("ssm", "ssh"))),
        # Every OpenSSH public key line has " AAAA" after its type.
        at("access", "ssh_public_key", st.text().filter(lambda text: " AAAA" not in text)),
        at("network", "vpc_id", not_matching(r"^vpc-[0-9a-f]{8,17}$")),
        st.integers(max_value=29).map(
            lambda size: (
                {"hosts": host_change(raw, disk_gib=size)},
                f"{NAMESPACE}:hosts.{host}.disk_gib",
            )
        ),
        st.text()
        .filter(lambda name: name not in SEED_INSTANCES)
        .map(
            lambda name: (
                {"hosts": host_change(raw, instance_type=name)},
                f"{NAMESPACE}:hosts.{host}.instance_type",
            )
        ),
        st.text(min_size=1)
        .filter(lambda key: key not in known_keys)
        .map(lambda key: ({key: "anything"}, f"{NAMESPACE}:{key}")),
    )


@FUZZ
@given(data=st.data())
def test_a_bad_value_is_reported_at_its_key(base, data):
    changes, key = data.draw(invalid_changes(base))
    loaded = load(with_changes(base, **changes))
    assert isinstance(loaded, ConfigError), f"accepted {changes}"
    assert key in {problem.key for problem in loaded.problems}


# Malformed: wrong types, missing keys, junk anywhere

BEYOND_JSON = st.integers(4301, 20_000).map(lambda digits: 10**digits - 1)
"""Integers longer than Python's JSON and YAML readers take (built, not parsed)."""


def shared(levels: int) -> list:
    """A value shared 2^levels times over, as YAML aliases of aliases give it."""
    value: list = ["lol"]
    for _ in range(levels):
        value = [value, value]
    return value


def containing_itself() -> dict:
    loop: dict = {"model": "x"}
    loop["chat"] = loop
    return loop


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    HUGE_INTEGERS,
    BEYOND_JSON,
    st.floats(),
    st.text(),
    st.builds(str.__mul__, st.text(min_size=1, max_size=3), st.integers(30_000, 100_000)),
    st.sampled_from(["", "0", "true", "null", "{}", "[]", "gpu-1", "ssm", "1.5", "0.0.0.0/0"]),
)
bounds_breakers = st.one_of(
    st.integers(20, 200).map(shared),
    st.builds(containing_itself),
    st.integers(17, 3000).map(nested),
)
"""Values past config.shape's bounds: alias bombs, self-reference, deep nesting."""
junk = st.recursive(
    st.one_of(json_scalars, bounds_breakers),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=10), st.sampled_from(sorted(KNOWN_KEYS))),
            children,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of every value nested in a config's mappings and lists, down to the depth of
    the deepest setting (junk below that is changed whole)."""
    if len(prefix) >= 4:
        return []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return []
    return [path for key, item in items for path in [(*prefix, key), *paths(item, (*prefix, key))]]


def value_at(raw: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    for key in path:
        raw = raw[key]
    return raw


@st.composite
def broken(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """The base config with one to four things broken in it."""
    raw = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        existing = paths(raw)
        action = draw(st.sampled_from(["replace", "delete", "add", "section"]))
        if action in ("replace", "delete") and existing:
            path = draw(st.sampled_from(existing))
            if action == "replace":
                value_at(raw, path[:-1])[path[-1]] = draw(junk)
            else:
                del value_at(raw, path[:-1])[path[-1]]
        elif action == "add":
            nested = [value_at(raw, path) for path in existing]
            target = draw(st.sampled_from([raw, *(v for v in nested if isinstance(v, dict))]))
            key = draw(st.one_of(st.sampled_from(sorted(KNOWN_KEYS)), st.text(max_size=10)))
            target[key] = draw(junk)
        else:
            section = draw(st.one_of(st.sampled_from(SECTIONS), st.text(max_size=10)))
            raw[section] = draw(st.one_of(st.just({}), st.none(), junk))
    return raw


def malformed(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    every_section_junk = st.dictionaries(
        st.one_of(st.sampled_from(SECTIONS), st.text(max_size=10)), junk, max_size=6
    )
    return st.one_of(broken(base), every_section_junk)


@FUZZ
@given(data=st.data(), has_hf_token=st.booleans())
def test_a_malformed_config_is_reported_not_crashed_on(base, data, has_hf_token):
    load(data.draw(malformed(base)), has_hf_token=has_hf_token)


@FUZZ
@given(data=st.data())
def test_loading_leaves_the_given_config_unchanged(base, data):
    raw = data.draw(malformed(base))
    before = snapshot(raw)
    load(raw)
    assert snapshot(raw) == before


def snapshot(value: Any, limit: int = 20_000) -> list[tuple[Any, ...]]:
    """Every container reachable from a value (each once, however often shared, up to a
    limit) with what it holds: equal snapshots mean nothing was changed in place."""
    seen, found, pending = set(), [], [value]
    while pending and len(found) < limit:
        item = pending.pop()
        if not isinstance(item, dict | list) or id(item) in seen:
            continue
        seen.add(id(item))
        pairs = list(item.items()) if isinstance(item, dict) else list(enumerate(item))
        found.append((id(item), tuple((k, id(v), type(v).__name__) for k, v in pairs)))
        pending += [v for _, v in pairs]
    return found


# The catalog: numbers of the instances and models a stack uses


def with_catalog(raw: dict[str, Any], kind: str, name: str, fields: dict[str, Any]):
    """A copy of a config whose catalog overrides some fields of one entry."""
    changed = copy.deepcopy(raw)
    catalog = changed.setdefault("catalog", {})
    entries = catalog.setdefault(kind, {})
    entries[name] = {**entries.get(name, {}), **fields}
    return changed


def numeric_fields(model: type) -> list[str]:
    return sorted(
        name
        for name, field in model.model_fields.items()
        if field.annotation in (int, float, float | None)
    )


@st.composite
def catalog_numbers(draw: st.DrawFn, raw: dict[str, Any], numbers: st.SearchStrategy):
    """The config with one number of a catalog entry it uses overridden."""
    loaded = valid(raw)
    entries = {("instances", host.instance_type) for host in loaded.hosts.values()} | {
        ("models", service.model) for service in loaded.services.values()
    }
    kind, name = draw(st.sampled_from(sorted(entries)))
    spec = loaded.catalog.instances[name] if kind == "instances" else loaded.catalog.models[name]
    field = draw(st.sampled_from(numeric_fields(type(spec))))
    return with_catalog(raw, kind, name, {field: draw(numbers)})


@FUZZ
@given(data=st.data())
def test_catalog_numbers_within_reason_are_reported_not_crashed_on(base, data):
    numbers = st.one_of(st.integers(-(10**9), 10**9), st.floats(-1e12, 1e12))
    load(data.draw(catalog_numbers(base, numbers)))


@FUZZ
@given(raw=catalog_numbers(DEV, st.one_of(HUGE_INTEGERS, st.floats())))
@example(raw=with_catalog(DEV, "models", DEV["chat"]["model"], {"params_b": 1e300}))
def test_huge_catalog_numbers_are_reported_not_crashed_on(raw):
    load(raw)


@FUZZ
@given(digits=st.integers(1, 6000))
@example(digits=4301)
def test_any_vllm_version_is_reported_not_crashed_on(digits):
    load(with_changes(DEV, images={"vllm_version": "9" * digits + ".0"}))


# Whole stack configs as the engine passes them: every namespace, secret keys


def qualified(raw: dict[str, Any]) -> dict[str, Any]:
    return {f"{NAMESPACE}:{key}": value for key, value in raw.items()}


namespaces = st.one_of(
    st.sampled_from(["aws", "docker", "random", "metis_llm", "Metis-LLM", "metisllm", "metis"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_", min_size=1, max_size=12),
)


@st.composite
def engine_configs(draw: st.DrawFn, base: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """A whole stack config (qualified keys, malformed values) and its secret keys."""
    config = qualified(draw(malformed(base)))
    extra = draw(
        st.dictionaries(
            st.builds("{}:{}".format, namespaces, st.sampled_from(sorted(KNOWN_KEYS))),
            junk,
            max_size=3,
        )
    )
    config.update(extra)
    if draw(st.booleans()):
        config[f"{NAMESPACE}:hf_token"] = draw(st.one_of(st.text(), junk))
    secret_keys = set(draw(st.lists(st.sampled_from(sorted(config) or ["x"]), max_size=3)))
    return config, secret_keys


@FUZZ
@given(data=st.data())
def test_a_whole_stack_config_is_loaded_or_reported_as_the_engine_passes_it(base, data):
    config, secret_keys = data.draw(engine_configs(base))
    try:
        load_stack(config, secret_keys=secret_keys)
    except ConfigError as error:
        well_formed(error, own_keys_only=False)


# Stack files as text, through the offline plan's reader


yaml_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**30), 10**30),
        st.floats(allow_nan=False),
        st.text(max_size=30),
        st.sampled_from(
            ["2024-01-01", "0x" + "f" * 20_000, "9" * 5000, "!!binary aGk=", "*a", "&a x"]
        ),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


@st.composite
def stack_file_texts(draw: st.DrawFn) -> str:
    """The dev stack file with keys added in YAML text: junk, aliases, bombs, bad syntax."""
    lines = ["config:"]
    lines += [f"  {NAMESPACE}:access: {{ssh_public_key: {EXAMPLE_KEY}}}"]
    for _ in range(draw(st.integers(0, 4))):
        key = draw(st.builds("{}:{}".format, namespaces, st.sampled_from(sorted(KNOWN_KEYS))))
        value = yaml.safe_dump(draw(yaml_values), default_flow_style=True, width=10**9).strip()
        lines.append(f"  {key}: {draw(st.sampled_from(['', '&a ', '!!str ']))}{value}")
    if draw(st.booleans()):
        levels = draw(st.integers(1, 30))
        lines += ["  aws:anchors:", '    l0: &l0 ["lol", "lol"]']
        lines += [f"    l{i}: &l{i} [*l{i - 1}, *l{i - 1}]" for i in range(1, levels + 1)]
        lines.append(f"  {NAMESPACE}:chat: *l{levels}")
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.text(max_size=30)))
    return "\n".join(lines) + "\n"


@FUZZ
@given(text=stack_file_texts())
def test_a_stack_file_is_read_or_reported_not_crashed_on(text):
    try:
        config = read_stack_text(text, "Pulumi.fuzz.yaml")
    except PlanError:
        return
    except ConfigError as error:
        well_formed(error, own_keys_only=False)
        return
    try:
        load_stack(config.values, secret_keys=config.secret_keys)
    except ConfigError as error:
        well_formed(error, own_keys_only=False)


def test_a_mapping_as_a_key_is_reported_not_crashed_on():
    text = "config:\n? {a: 1}\n: x\n"

    with pytest.raises(PlanError, match="not a valid stack file"):
        read_stack_text(text, "Pulumi.bad.yaml")
