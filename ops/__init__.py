"""`python -m ops`: wake, put to sleep and inspect a deployed stack with AWS credentials and
the stack's name alone (no Pulumi CLI, no state): what a CI runner has."""
