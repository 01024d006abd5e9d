"""The metis-llm policy pack: `pulumi preview --policy-pack policy`.

Building the PolicyPack starts the analyzer's gRPC server and blocks, so this is the only
place it is built; the policies live in `guardrails`, where tests import them. Pulumi runs
this file with the pack's directory on sys.path, hence the top-level import.
"""

from guardrails import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="metis-llm-guardrails",
    policies=list(POLICIES),
    enforcement_level=EnforcementLevel.MANDATORY,
)
