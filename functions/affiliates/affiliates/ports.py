"""What affiliates calls outside its table: the user pool's groups. Logic sees this protocol;
`affiliates.adapters` implements it over Cognito, and tests may pass another."""

from typing import Protocol


class Groups(Protocol):
    def add(self, username: str, group: str) -> None:
        """Put the user in `group` (a no-op if they are in it). Effective on their next token."""
        ...
