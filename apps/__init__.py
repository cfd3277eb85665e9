"""Panel pages of the training lab. Views only: they read lab objects and render them (no numerics)."""
