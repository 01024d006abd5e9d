#!/bin/bash
# metis-llm host bootstrap, role: @ROLE@. Rendered by renderers/cloud_init.py.
# Runs once, at first boot; `pulumi up` waits for it (cloud-init status --wait).
set -euo pipefail
exec > >(tee -a /var/log/metis-llm-bootstrap.log) 2>&1
