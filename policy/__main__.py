"""The metis-llm policy pack: `pulumi preview --policy-pack policy`.

Building the PolicyPack starts the analyzer's gRPC server and blocks, so this is the only
place it is built; the policies live in `guardrails`, where tests import them. Pulumi runs
this file with the pack's directory on sys.path, hence the top-level import. The project's
directory goes on it too: the pack judges CIDRs, ports and image tags with the stack
config's own definitions (`config.exposure`, `config.ports`, `config.images`, which use the
standard library only), so the pack runs from this repository.
"""

import sys
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from guardrails import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="metis-llm-guardrails",
    policies=list(POLICIES),
    enforcement_level=EnforcementLevel.MANDATORY,
)
