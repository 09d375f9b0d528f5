"""What every door calls: answering and logging, votes, erasure, retention, and tickets.

Telegram (citizenbot.telegram), the terminal chat (console), batch mode and the command line
(cli) all go through here, so a rule written once holds for every door: an answered question is
logged before it is shown, one vote per answer, erasure in one transaction, a ticket recorded
before it is posted. The service reaches storage and chat services only through the narrow
interfaces in service.ports.
"""

from citizenbot.service.answering import Answer, Asker, Service, hash_user
from citizenbot.service.ports import (
    Journal,
    Messenger,
    MessengerError,
    Refused,
    Storage,
    Uncertain,
    Unreachable,
)
from citizenbot.service.tickets import Answering, Opened, StaffChat, TicketDesk

__all__ = [
    "Answer",
    "Answering",
    "Asker",
    "Journal",
    "Messenger",
    "MessengerError",
    "Opened",
    "Refused",
    "Service",
    "StaffChat",
    "Storage",
    "TicketDesk",
    "Uncertain",
    "Unreachable",
    "hash_user",
]
