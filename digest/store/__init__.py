"""SQLite storage: collected articles, source state and the send ledger, in one file."""

from digest.store.articles import ArticleTable, SaveCounts
from digest.store.ledger import SendLedger
from digest.store.preferences import Preferences
from digest.store.service_state import Lease, ServiceState
from digest.store.sourcestate import FileStamps, SourceState, SourceStates
from digest.store.suppressions import BOUNCED, UNSUBSCRIBED, Suppression, Suppressions


class Store(
    ArticleTable, SendLedger, Suppressions, SourceStates, FileStamps, ServiceState, Preferences
):
    """The project's database; see the mixins for each table's queries."""


__all__ = [
    "BOUNCED", "UNSUBSCRIBED", "Lease", "SaveCounts", "SourceState", "Store", "Suppression",
]  # fmt: skip
