"""What a dashboard is made of, as plain data the boards are written in: queries with
their legends, charts, sections (Grafana rows) and boards, and the PromQL shapes the boards
share (a rate summed by a label, a histogram's quantiles)."""

from __future__ import annotations

from dataclasses import dataclass

RATE_WINDOW = "5m"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    queries: tuple[Query, ...]
    description: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    charts: tuple[Chart, ...]


@dataclass(frozen=True)
class Board:
    uid: str
    title: str
    sections: tuple[Section, ...]

    @property
    def file_name(self) -> str:
        return f"{self.uid}.json"

    @property
    def queries(self) -> list[str]:
        return [q.expr for s in self.sections for c in s.charts for q in c.queries]


def rate(metric: str, by: str) -> str:
    return f"sum by ({by}) (rate({metric}[{RATE_WINDOW}]))"


def quantiles(histogram: str, by: str, legend: str) -> tuple[Query, ...]:
    return tuple(
        Query(
            f"histogram_quantile({q}, sum by ({by}, le) (rate({histogram}_bucket[{RATE_WINDOW}])))",
            f"{legend} p{round(q * 100)}",
        )
        for q in (0.5, 0.95)
    )
