"""Print the SDL that `schema/schema.graphql` must hold: `python -m hub.graphql.export`."""

from __future__ import annotations

from hub.config import Settings
from hub.graphql.schema import build_schema


def sdl() -> str:
    return build_schema(Settings.from_env({})).as_str() + "\n"


if __name__ == "__main__":
    print(sdl(), end="")
