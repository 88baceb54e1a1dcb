"""The preflight function's configuration, parsed once per process from the environment."""

from pydantic import Field

from common.config import Settings, load_settings


class PreflightSettings(Settings):
    allowed_origins: str = Field(
        default="", alias="ALLOWED_ORIGINS", description="Comma-separated origins (the template's AllowedOrigins)"
    )

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(o.strip() for o in self.allowed_origins.split(",") if o.strip())


def settings() -> PreflightSettings:
    loaded: PreflightSettings = load_settings(PreflightSettings)
    return loaded
