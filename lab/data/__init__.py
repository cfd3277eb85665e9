"""Data: the generators and bundled sets (datasets), file loaders (loaders) and the train/test split."""
