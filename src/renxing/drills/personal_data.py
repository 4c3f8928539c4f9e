"""What drills hold about a resident, for a person's request: the activities they attended.
Attendance names no more than the person's id, which stays so coverage keeps counting them;
erasing the register row makes it anonymous, so erasure has nothing more to change here."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.drills.models import Activity, Attendance
from renxing.people.subject import PersonalData, Subject, iso


def export(session: Session, subject: Subject) -> dict[str, Any]:
    attended = session.execute(
        select(Activity.title, Activity.starts_at, Attendance.method, Attendance.signed_at)
        .join(Attendance, Attendance.activity_id == Activity.id)
        .where(Attendance.resident_id == subject.resident_id)
        .order_by(Attendance.signed_at)
    )
    return {
        "drill_attendance": [
            {"activity": title, "starts_at": iso(starts), "method": method, "signed_at": iso(signed)}
            for title, starts, method, signed in attended
        ]
    }


def erase(session: Session, subject: Subject) -> dict[str, int]:
    return {}


PROVIDER = PersonalData("drills", export=export, erase=erase)
