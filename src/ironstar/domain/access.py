"""Who may act on a workspace aggregate: the one place that decides it.

Today only the owner may; sharing and roles will extend this function (for
example with a grants argument read from the aggregate), not its callers.
"""

from __future__ import annotations

from ironstar.domain.errors import Forbidden
from ironstar.domain.kernel import UserId


def ensure_owner(owner: UserId, actor: UserId) -> None:
    """Raise ``Forbidden`` unless ``actor`` may change what ``owner`` owns."""
    if actor != owner:
        raise Forbidden(f"user {actor!r} may not change what belongs to another user")
