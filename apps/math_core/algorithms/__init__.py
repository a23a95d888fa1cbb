"""Pure algorithm modules (numpy/scipy only, never Django): importable without settings."""
