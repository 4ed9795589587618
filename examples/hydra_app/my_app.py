#!/usr/bin/env python3
"""A stand-in for a Hydra application's @hydra.main entry point (Hydra is not installed here).

It takes Hydra's command line as such an application would: `key=value` overrides of its own
config (trainer.*) and `hydra.run.dir=DIR`, its output directory. It "trains" by writing the
config it got to DIR/result.json and printing it, so a sweep shows which values reached it.
"""
import json
import os
import sys

CONFIG = {"trainer": {"learning_rate": 0.01, "hidden_dim": 64, "epochs": 2}}


def parse(text):
    """A scalar as Hydra reads it: int, float, bool, null or text ('quoted' stays text)."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main(argv):
    run_dir = os.getcwd()
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep:
            sys.exit(f"my_app.py: not an override: {arg}")
        key = key.lstrip("+")
        if key == "hydra.run.dir":
            run_dir = value
            continue
        if key.startswith("hydra."):
            continue
        node = CONFIG
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = parse(value)
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "result.json"), "w") as f:
        json.dump(CONFIG, f)
    print(f"trained with {json.dumps(CONFIG, sort_keys=True)}")


if __name__ == "__main__":
    main(sys.argv[1:])
