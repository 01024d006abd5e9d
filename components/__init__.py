"""Pulumi components: each a ComponentResource typed `metis-llm:<module>:<Name>`."""
