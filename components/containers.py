"""What the vLLM and LiteLLM containers have in common."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_docker as docker

from renderers.probes import HttpProbe

OPERATION_MARGIN_SECONDS = 10 * 60
"""Creating and starting a container, on top of its health wait."""
IMAGE_PULL_TIMEOUT = "40m"
"""A vLLM image is ~10 GB compressed, 25-35 GB on disk: ~5-10 min from a registry on a
good day; the provider's own default (20 min) leaves too little for a slow one."""
REPLACE_ON_CHANGES = ["healthcheck"]
"""Docker cannot change a container's health check in place, and the provider's update
ignores it (kreuzwerker/terraform-provider-docker#988): replace the container instead."""
INSTANCE_LABEL = "metis-llm.instance"


def healthcheck(probe: HttpProbe) -> docker.ContainerHealthcheckArgs:
    return docker.ContainerHealthcheckArgs(
        tests=probe.test,
        interval=probe.interval,
        timeout=probe.timeout,
        retries=probe.retries,
        start_period=probe.start_period,
    )


def container_timeouts(wait_seconds: int) -> pulumi.CustomTimeouts:
    """The provider waits for a healthy container inside its create (and replace) call,
    which times out after 20 minutes unless told otherwise: allow the health wait plus the
    time to create and start the container."""
    minutes = (wait_seconds + OPERATION_MARGIN_SECONDS) // 60
    return pulumi.CustomTimeouts(create=f"{minutes}m", update=f"{minutes}m")


def container_options(
    on_host: pulumi.ResourceOptions, wait_seconds: int, after: Sequence[pulumi.Resource] = ()
) -> pulumi.ResourceOptions:
    """A container's options: its host's provider, timeouts above its health wait,
    replacement when its health check changes, and what it starts after."""
    return pulumi.ResourceOptions.merge(
        on_host,
        pulumi.ResourceOptions(
            custom_timeouts=container_timeouts(wait_seconds),
            replace_on_changes=REPLACE_ON_CHANGES,
            depends_on=list(after),
        ),
    )


def instance_label(instance_id: pulumi.Input[str]) -> docker.ContainerLabelArgs:
    """Labels force a new container: a replaced host gets its containers created again,
    however its Docker provider's own diff goes."""
    return docker.ContainerLabelArgs(label=INSTANCE_LABEL, value=instance_id)


def secret_envs(
    plain: Mapping[str, str], secret: Mapping[str, pulumi.Input[str]]
) -> pulumi.Output[list[str]]:
    """A container's `envs`, as one secret: it carries keys."""
    names = list(secret)

    def render(values: list[str]) -> list[str]:
        merged = {**plain, **dict(zip(names, values, strict=True))}
        return [f"{key}={value}" for key, value in merged.items()]

    return pulumi.Output.secret(pulumi.Output.all(*secret.values()).apply(render))


def pinned_image(
    name: str, image: str, instance_id: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> docker.RemoteImage:
    """The image pulled once onto the host and kept there: a container replacement then
    does not pull again, and the container runs this image's id, not a tag. A replaced host
    pulls it again (the trigger); images no container uses are pruned after each update."""
    return docker.RemoteImage(
        name,
        name=image,
        keep_locally=True,
        triggers={"instance": instance_id},
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                custom_timeouts=pulumi.CustomTimeouts(
                    create=IMAGE_PULL_TIMEOUT, update=IMAGE_PULL_TIMEOUT
                )
            ),
        ),
    )
