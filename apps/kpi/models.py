"""No models yet: this domain reads the others."""
