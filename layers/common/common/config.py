"""Configuration as a model: environment variables parsed once per process into pydantic models."""

import os
from functools import cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

ConfigT = TypeVar("ConfigT", bound="Settings")


class Settings(BaseModel):
    """Base for a function's settings. Fields name their variable with `alias`; unknown variables are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


@cache
def load_settings[ConfigT: "Settings"](cls: type[ConfigT]) -> ConfigT:
    """Parse `cls` from the environment once; a missing or malformed variable fails the cold start loudly."""
    return cls.model_validate(dict(os.environ))
