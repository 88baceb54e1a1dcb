"""Support's notes on a customer (`CUSTOMER#<sub> / NOTE#<noteId>`; note ids sort by time)."""

from datetime import datetime

from common.store import iso
from customers.models import Note
from customers.store.base import CustomersTable, customer_pk


class NoteStore(CustomersTable):
    def add_note(self, sub: str, note: Note) -> None:
        item = {
            "PK": customer_pk(sub),
            "SK": f"NOTE#{note.note_id}",
            "noteId": note.note_id,
            "text": note.text,
            "author": note.author,
            "at": iso(note.at),
        }
        self.put_if_absent(item)

    def list_notes(self, sub: str, limit: int) -> list[Note]:
        return [
            Note(note_id=v["noteId"], text=v["text"], author=v["author"], at=datetime.fromisoformat(v["at"]))
            for v in self.query_prefix(customer_pk(sub), "NOTE#", limit=limit, newest_first=True)
        ]
