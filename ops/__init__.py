"""`python -m ops`: wake, put to sleep and inspect a deployed stack with AWS credentials and
the stack's name alone (no Pulumi CLI, no state): what a CI runner has; and open its
dashboards from a checkout holding its stack file.

`__main__` is the argparse entry; each command is a module of its own (`wake`, `sleep`,
`status`, `dashboard`) on what they share: `stack` (clients, hosts, record, errors),
`waiting` (progress on an injected clock), `fleet` (instances by tag), `discovery` (the
record), `router` (what wake asks the router)."""
