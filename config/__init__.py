"""Stack config -> typed, validated settings. Nothing here creates resources."""
