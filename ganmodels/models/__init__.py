"""The model families, one module each: config, networks, objective, load/save — the paper, top to bottom."""
