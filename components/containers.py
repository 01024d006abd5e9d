"""What the vLLM and LiteLLM containers have in common."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_docker as docker

from renderers.probes import HttpProbe


def healthcheck(probe: HttpProbe) -> docker.ContainerHealthcheckArgs:
    return docker.ContainerHealthcheckArgs(
        tests=probe.test,
        interval=probe.interval,
        timeout=probe.timeout,
        retries=probe.retries,
        start_period=probe.start_period,
    )


def secret_envs(
    plain: Mapping[str, str], secret: Mapping[str, pulumi.Input[str]]
) -> pulumi.Output[list[str]]:
    """A container's `envs`, as one secret: it carries keys."""
    names = list(secret)

    def render(values: list[str]) -> list[str]:
        merged = {**plain, **dict(zip(names, values, strict=True))}
        return [f"{key}={value}" for key, value in merged.items()]

    return pulumi.Output.secret(pulumi.Output.all(*secret.values()).apply(render))


def pinned_image(name: str, image: str, opts: pulumi.ResourceOptions) -> docker.RemoteImage:
    """The image pulled once onto the host and kept there: a container replacement then
    does not pull again, and the container runs this image's id, not a tag."""
    return docker.RemoteImage(name, name=image, keep_locally=True, opts=opts)
