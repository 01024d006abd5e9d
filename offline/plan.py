"""The offline plan of one stack file: its validated settings and the program's run under
the mocks, and the plan as text (resource tree, outputs, hourly cost)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from config.exposure import opens_to_internet, public_blocks, reach
from config.placeholders import PlaceholderError, placeholder_problems
from config.settings import Settings
from offline.harness import ProgramRun, run_stack_config
from offline.stackfile import display_path, read_stack_file, stack_name_of
from offline.tree import render_tree
from offline.values import flatten
from renderers.cost import hourly_cost, monthly_cost

MOCKED = (
    "Ran the program under Pulumi mocks: no cloud, no state, no credentials. "
    "Ids, IPs and digests are placeholders."
)


@dataclass(frozen=True)
class Plan:
    stack: str
    stack_file: Path
    settings: Settings
    run: ProgramRun


def make_plan(stack_file: Path) -> Plan:
    """Read the stack file once; validate first (a ConfigError carries the message the
    program would stop with), then run the program with its config."""
    config = read_stack_file(stack_file)
    settings = config.settings()
    stack = stack_name_of(stack_file)
    return Plan(stack, stack_file, settings, run_stack_config(config, stack))


def output_lines(run: ProgramRun) -> list[str]:
    """Every stack output in export order, secrets masked, long texts summarised."""
    return [
        f"{path}: {leaf.summary()}"
        for name, output in run.outputs.items()
        for path, leaf in flatten(output.value, name, output.secret).items()
    ]


def settings_text(settings: Settings) -> str:
    """The validated settings with every default filled in (the catalog left out)."""
    values = settings.model_dump(mode="json", exclude={"catalog"})
    return yaml.safe_dump(values, sort_keys=False).rstrip()


def cost_line(settings: Settings) -> str:
    cost = hourly_cost(settings)
    hosts = ", ".join(
        f"{host} {settings.hosts[host].instance_type} ${usd:.2f}"
        for host, usd in cost.by_host.items()
    )
    monthly = monthly_cost(settings)
    scheduled = (
        f"; ${monthly.scheduled:,.2f} within the schedule ({monthly.hours_per_week:g} h a week)"
        if monthly.scheduled is not None
        else ""
    )
    return (
        f"Hourly cost: ${cost.total:.2f} ({hosts}); on-demand list prices as of "
        f"{cost.prices_as_of}, an upper bound for spot hosts; disks and traffic excluded.\n"
        f"Monthly cost: ${monthly.always_on:,.2f} always on{scheduled}."
    )


def public_router_warning(settings: Settings) -> str | None:
    """A banner when the router's callers are the internet (as `config.exposure` judges a
    CIDR list; only `allow_public` allows it)."""
    router = settings.router
    if not opens_to_internet(router.allowed_cidrs):
        return None
    wide = public_blocks(router.allowed_cidrs)
    return (
        f"WARNING: THE ROUTER IS OPEN TO {reach(wide).upper()}: tcp {router.public_port} from "
        f"{' and '.join(wide)} (metis-llm:router.allow_public: true). Only the router key "
        "protects your models. The policy pack refuses this unless its config sets "
        f"no-world-ingress.allowPublicRouterPort: {router.public_port}."
    )


def plain_http_warning(settings: Settings) -> str | None:
    """A banner when the router serves plain HTTP (only on request: router.plain_http)."""
    router = settings.router
    if not router.plain_http:
        return None
    return (
        f"WARNING: THE ROUTER SERVES PLAIN HTTP: tcp {router.port} "
        "(metis-llm:router.plain_http: true). The code under review and the router key cross "
        "the network in clear text. The policy pack refuses this for a router open to the "
        "internet; remove plain_http to serve HTTPS with the stack's own CA."
    )


def real_run_refusal(settings: Settings) -> str | None:
    """What a real `pulumi preview`/`up` would stop on: the example values the plan accepts."""
    problems = placeholder_problems(settings)
    if not problems:
        return None
    return (
        "A REAL `pulumi preview` OR `pulumi up` WOULD STOP HERE, BEFORE CREATING ANYTHING:\n"
        f"{PlaceholderError(problems)}"
    )


def file_sections(out_dir: Path, files: Mapping[str, str]) -> list[str]:
    """Each rendered file, under a header naming where it was written."""
    return [f"--- {out_dir / name} ---\n{content.rstrip()}" for name, content in files.items()]


def render_plan(plan: Plan, out_dir: Path, files: Mapping[str, str]) -> str:
    registrations = plan.run.registrations
    components = sum(not registration.custom for registration in registrations)
    notices = [
        public_router_warning(plan.settings),
        plain_http_warning(plan.settings),
        real_run_refusal(plan.settings),
    ]
    sections = [
        f"Offline plan: stack {plan.stack} ({display_path(plan.stack_file)})\n{MOCKED}",
        *(notice for notice in notices if notice),
        "Settings (validated, defaults filled in)\n" + settings_text(plan.settings),
        f"Resources ({len(registrations)}, of which {components} components)\n"
        + render_tree(plan.run),
        "Outputs\n" + "\n".join(f"  {line}" for line in output_lines(plan.run)),
        cost_line(plan.settings),
        f"Rendered files, written to {out_dir}:",
        *file_sections(out_dir, files),
    ]
    return "\n\n".join(sections) + "\n"
