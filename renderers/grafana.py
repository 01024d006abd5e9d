"""Grafana on the router host: its environment and the provisioning files it reads when it
starts (the Prometheus data source, the dashboards folder), all uploaded into the container.

Like Prometheus it runs in the host's network namespace and listens on 127.0.0.1 only; the
admin password comes from a file (the image's run.sh turns `GF_<KEY>__FILE` into the file's
contents), so the container's environment holds no secret.
"""

from __future__ import annotations

from typing import Any

import yaml

from config.ports import GRAFANA_PORT, PROMETHEUS_PORT
from renderers.dashboards import DATASOURCE_UID, FOLDER

CONTAINER_NAME = "grafana"
PROVISIONING_DIR = "/etc/grafana/provisioning"
DATASOURCES_FILE = f"{PROVISIONING_DIR}/datasources/metis-llm.yaml"
DASHBOARD_PROVIDERS_FILE = f"{PROVISIONING_DIR}/dashboards/metis-llm.yaml"
DASHBOARDS_DIR = "/etc/grafana/dashboards/metis-llm"
ADMIN_PASSWORD_FILE = "/etc/grafana/admin-password"
DATA_DIR = "/var/lib/grafana"
"""The image's data directory (its SQLite database), owned by its user: a named volume keeps it."""
LISTEN_ADDRESS = "127.0.0.1"
ADMIN_USER = "admin"


def grafana_env() -> dict[str, str]:
    """Listen on 127.0.0.1 only, admin password from a file, no sign-up, no anonymous
    access, no calls home (usage reports, update checks, news feed)."""
    return {
        "GF_SERVER_HTTP_ADDR": LISTEN_ADDRESS,
        "GF_SERVER_HTTP_PORT": str(GRAFANA_PORT),
        "GF_SECURITY_ADMIN_USER": ADMIN_USER,
        "GF_SECURITY_ADMIN_PASSWORD__FILE": ADMIN_PASSWORD_FILE,
        "GF_USERS_ALLOW_SIGN_UP": "false",
        "GF_AUTH_ANONYMOUS_ENABLED": "false",
        "GF_ANALYTICS_REPORTING_ENABLED": "false",
        "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
        "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES": "false",
        "GF_NEWS_NEWS_FEED_ENABLED": "false",
    }


def datasources() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "type": "prometheus",
                "uid": DATASOURCE_UID,
                "access": "proxy",
                "url": f"http://127.0.0.1:{PROMETHEUS_PORT}",
                "isDefault": True,
                "editable": False,
            }
        ],
    }


def dashboard_providers() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": FOLDER,
                "folder": FOLDER,
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "options": {"path": DASHBOARDS_DIR, "foldersFromFilesStructure": False},
            }
        ],
    }


def render_provisioning() -> dict[str, str]:
    """Provisioning files by path in the container."""
    return {
        DATASOURCES_FILE: yaml.safe_dump(datasources(), sort_keys=False),
        DASHBOARD_PROVIDERS_FILE: yaml.safe_dump(dashboard_providers(), sort_keys=False),
    }
