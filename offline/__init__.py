"""Running the real program without a cloud: mocks, a harness, and the offline plan."""
