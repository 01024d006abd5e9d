"""Day-to-day operations on a deployed stack: `python -m ops COMMAND STACK`."""
