"""Compose: an edition becomes the email a subscriber gets (HTML through MJML, plain text).

`layout` builds a variant's shared layout once, `personal` fills in one subscriber,
`mime` turns both into canonical message bytes; `composer` ties them together.
"""

from digest.compose.composer import Composer, new_message_id, outbox_name
from digest.compose.environment import template_environment
from digest.compose.layout import RenderedDigest
from digest.compose.theme import Theme
from digest.compose.view import one_line

__all__ = [
    "Composer",
    "RenderedDigest",
    "Theme",
    "new_message_id",
    "one_line",
    "outbox_name",
    "template_environment",
]
