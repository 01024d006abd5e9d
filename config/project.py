"""The Pulumi project this program is: its name namespaces every config key
(`metis-llm:chat`) and tags every resource (`project: metis-llm`)."""

NAMESPACE = "metis-llm"
"""The Pulumi project's name (Pulumi.yaml)."""
