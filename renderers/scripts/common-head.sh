#!/bin/bash
# metis-llm host bootstrap, role: @ROLE@. Rendered by renderers/cloud_init.py.
# Runs once, at first boot. `pulumi up` waits for cloud-init, then looks for
# @BOOTSTRAP_DONE@, which this script writes last: any failure leaves it missing.
set -euo pipefail
exec > >(tee -a @BOOTSTRAP_LOG@) 2>&1
