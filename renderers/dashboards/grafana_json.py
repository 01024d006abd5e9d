"""A board as Grafana's dashboard JSON, built with grafana-foundation-sdk's Grafana 11.6
builders: a row per section, a time series panel per chart on a three-wide grid, every
panel on the provisioned Prometheus data source."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.builders.timeseries import Panel
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from renderers.dashboards.layout import Board, Chart

DATASOURCE_UID = "prometheus"
DATASOURCE = DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
FOLDER = "metis-llm"
PANEL_WIDTH = 8
PANEL_HEIGHT = 8


def _panel(chart: Chart, panel_id: int) -> Panel:
    panel = (
        Panel()
        .id(panel_id)
        .title(chart.title)
        .unit(chart.unit)
        .datasource(DATASOURCE)
        .height(PANEL_HEIGHT)
        .span(PANEL_WIDTH)
    )
    if chart.description:
        panel = panel.description(chart.description)
    for index, query in enumerate(chart.queries):
        panel = panel.with_target(
            Dataquery().expr(query.expr).legend_format(query.legend).ref_id(chr(ord("A") + index))
        )
    return panel


def dashboard(board: Board) -> dict[str, Any]:
    builder = (
        Dashboard(board.title)
        .uid(board.uid)
        .tags([FOLDER])
        .refresh("30s")
        .time("now-6h", "now")
        .editable()
    )
    ids = iter(range(1, 1000))
    for section in board.sections:
        builder = builder.with_row(Row(section.title).id(next(ids)))
        for chart in section.charts:
            builder = builder.with_panel(_panel(chart, next(ids)))
    return json.loads(JSONEncoder(sort_keys=True, indent=2).encode(builder.build()))
