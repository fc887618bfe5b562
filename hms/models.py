"""Every table of the product in one place (SPEC §3), so a reader sees the whole data model at once."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
    case,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from hms.common.clock import utcnow_naive
from hms.common.names import doctor_display_name, strip_title
from hms.extensions import Base, db

if TYPE_CHECKING:
    # Flask-SQLAlchemy builds db.Model at run time, so mypy cannot see it: type-check the models against the
    # declarative base db.Model is made from (hms.extensions.Base), which has the same Mapped[...] columns.
    Model = Base
else:
    Model = db.Model


class Role(enum.StrEnum):
    ADMIN = "admin"
    DOCTOR = "doctor"
    PATIENT = "patient"


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


ACTIVE_STATUSES = (AppointmentStatus.BOOKED.value, AppointmentStatus.COMPLETED.value)
_ACTIVE_SQL = text("status IN ('booked', 'completed')")


class VisitType(enum.StrEnum):
    IN_PERSON = "in_person"
    FOLLOW_UP = "follow_up"
    EMERGENCY = "emergency"
    TELE = "tele"


class Channel(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    SMS = "sms"


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class ExportStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    NOTIFIED = "notified"
    CANCELLED = "cancelled"


class InvoiceStatus(enum.StrEnum):
    UNPAID = "unpaid"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    VOID = "void"


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    CARD = "card"
    UPI = "upi"
    INSURANCE = "insurance"


class PaymentKind(enum.StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


class User(Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'doctor', 'patient')", name="role"),
        # The few blocked logins: the admin's count of active patients subtracts them (migration 0029).
        Index("ix_users_blocked", "id", postgresql_where=text("NOT is_active"), sqlite_where=text("is_active = 0")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Tokens issued before this moment are refused: blocking or a password change ends every session at once.
    tokens_valid_after: Mapped[datetime | None] = mapped_column(DateTime)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    # When the owner proved the address is theirs (a link mailed to it); None: no clinical content is mailed to it.
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A self-registered account that has not opened its verification link yet cannot sign in (so registration
    # cannot be used to learn whether an address has an account: see accounts.verification).
    awaiting_verification: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Two-factor sign-in (accounts.totp): the secret encrypted with a key outside the database; it counts only
    # once totp_enabled_at is set (a code confirmed it). totp_last_step: the last time-step accepted (no replay).
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    doctor: Mapped[Doctor | None] = relationship(back_populates="user", uselist=False)
    patient: Mapped[Patient | None] = relationship(back_populates="user", uselist=False)

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class TotpRecoveryCode(Model):
    """One of the ten single-use codes that replace a lost authenticator: only their hash is kept."""

    __tablename__ = "totp_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class Department(Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive)

    doctors: Mapped[list[Doctor]] = relationship(back_populates="department")


class Doctor(Model):
    __tablename__ = "doctors"
    __table_args__ = (CheckConstraint("slot_minutes BETWEEN 5 AND 240", name="slot_minutes"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    full_name: Mapped[str] = mapped_column(String(160), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    specialization: Mapped[str | None] = mapped_column(String(120), index=True)
    qualifications: Mapped[str | None] = mapped_column(Text)
    experience_years: Mapped[int | None] = mapped_column(Integer)
    consultation_fee: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    phone: Mapped[str | None] = mapped_column(String(32))
    gender: Mapped[str | None] = mapped_column(String(16))
    about: Mapped[str | None] = mapped_column(Text)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default=text("30"))
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive)
    # Set when DELETE met clinical history: the doctor is deactivated and hidden, never removed.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(back_populates="doctor")
    department: Mapped[Department | None] = relationship(back_populates="doctors")

    @validates("full_name")
    def _without_title(self, _key: str, value: str) -> str:
        return strip_title(value) if value else value

    @property
    def display_name(self) -> str:
        """The name with its title, as every page, message and report shows it."""
        return doctor_display_name(self.full_name) or ""


class Patient(Model):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    full_name: Mapped[str] = mapped_column(String(160), index=True)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    blood_group: Mapped[str | None] = mapped_column(String(4))
    height_cm: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    allergies: Mapped[str | None] = mapped_column(Text)
    medical_history: Mapped[str | None] = mapped_column(Text)
    emergency_contact: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive, index=True)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(back_populates="patient")


class AvailabilityWindow(Model):
    """One working window of a doctor on one date; several may exist per day."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("start_time < end_time", name="window_order"),
        Index("ix_availability_doctor_date", "doctor_id", "date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)


class BlockedSlot(Model):
    """A single slot the doctor switched off inside a window."""

    __tablename__ = "blocked_slots"
    __table_args__ = (UniqueConstraint("doctor_id", "date", "start_time", name="uq_blocked_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"), index=True)
    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)


class Appointment(Model):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("status IN ('booked', 'completed', 'cancelled', 'no_show')", name="status"),
        CheckConstraint("start_time < end_time", name="time_order"),
        # The race-proof rule of SPEC §4: one active appointment per doctor and slot start.
        Index(
            "uq_appointment_active_slot",
            "doctor_id",
            "date",
            "start_time",
            unique=True,
            sqlite_where=_ACTIVE_SQL,
            postgresql_where=_ACTIVE_SQL,
        ),
        # A patient holds at most one active appointment with one doctor on one day.
        Index(
            "uq_appointment_active_patient_doctor_day",
            "patient_id",
            "doctor_id",
            "date",
            unique=True,
            sqlite_where=_ACTIVE_SQL,
            postgresql_where=_ACTIVE_SQL,
        ),
        Index("ix_appointment_doctor_date", "doctor_id", "date"),
        Index("ix_appointment_patient_date", "patient_id", "date"),
        # The admin's list of one status in its order; counts by status and date (and today's end times, for
        # "upcoming") from the index alone (migration 0029).
        Index("ix_appointment_status_date_start", "status", "date", "start_time", "id", "end_time"),
        # The admin's list order (newest or soonest first); pages walk it instead of sorting (migration 0021,
        # which also adds PostgreSQL's trigram indexes for searching names, e-mails and phones).
        Index("ix_appointment_date_start", "date", "start_time", "id"),
        Index("ix_appointment_status_doctor", "status", "doctor_id"),  # analytics: counts per status and doctor
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    status: Mapped[str] = mapped_column(String(16), default=AppointmentStatus.BOOKED.value)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive, onupdate=utcnow_naive)
    cancelled_by: Mapped[str | None] = mapped_column(String(16))
    cancelled_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    rescheduled_from: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), index=True)

    patient: Mapped[Patient] = relationship()
    doctor: Mapped[Doctor] = relationship()
    treatment: Mapped[Treatment | None] = relationship(back_populates="appointment", uselist=False)


class Treatment(Model):
    """The clinical record of one visit; edited only by the appointment's doctor, every change audited."""

    __tablename__ = "treatments"
    __table_args__ = (
        CheckConstraint("visit_type IN ('in_person', 'follow_up', 'emergency', 'tele')", name="visit_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), unique=True)
    diagnosis: Mapped[str | None] = mapped_column(Text)
    prescription: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    visit_type: Mapped[str] = mapped_column(String(16), default=VisitType.IN_PERSON.value)
    tests_ordered: Mapped[str | None] = mapped_column(Text)
    precautions: Mapped[str | None] = mapped_column(Text)
    follow_up_date: Mapped[date | None] = mapped_column(Date)
    medicines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive, onupdate=utcnow_naive)

    appointment: Mapped[Appointment] = relationship(back_populates="treatment")


class Notification(Model):
    """The outbox: every outgoing message is a row first, then a task sends it (and retries it)."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'webhook', 'sms')", name="channel"),
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        # Reminders are idempotent: a second run of the daily job cannot add a second row.
        Index(
            "uq_notification_reminder",
            "appointment_id",
            "kind",
            "channel",
            unique=True,
            sqlite_where=text("kind = 'reminder'"),
            postgresql_where=text("kind = 'reminder'"),
        ),
        Index("ix_notification_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(48), index=True)
    recipient: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)


class ExportJob(Model):
    __tablename__ = "export_jobs"
    __table_args__ = (CheckConstraint("status IN ('pending', 'running', 'done', 'failed')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=ExportStatus.PENDING.value, index=True)
    file: Mapped[str | None] = mapped_column(String(512))
    row_count: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive, index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Model):
    """Append-only record of who did what to which record, chained by hash so edits are detectable."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_username: Mapped[str | None] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(48))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class WaitlistEntry(Model):
    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'notified', 'cancelled')", name="status"),
        Index(
            "uq_waitlist_active",
            "patient_id",
            "doctor_id",
            "date",
            unique=True,
            sqlite_where=text("status = 'waiting'"),
            postgresql_where=text("status = 'waiting'"),
        ),
        Index("ix_waitlist_doctor_date", "doctor_id", "date", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"), index=True)
    date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=WaitlistStatus.WAITING.value)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive)
    notified_at: Mapped[datetime | None] = mapped_column(DateTime)


class LoginThrottle(Model):
    """Failed sign-ins of one account (or unknown name) from one client address: locks are per pair, so a
    stranger's failures never lock the owner out from an address that has not failed."""

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("account", "ip", name="uq_login_throttle_account_ip"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(300))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ip: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    locks: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive, index=True)


class RevokedToken(Model):
    """Logged-out token ids when no Redis is configured; rows past expires_at may be purged."""

    __tablename__ = "revoked_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class InvoiceCounter(Model):
    """The last invoice number of one financial year: incremented in the invoice's own transaction, so a
    rolled-back invoice gives its number back and numbers have no gaps."""

    __tablename__ = "invoice_counters"

    financial_year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


_NOT_VOID_SQL = text("status <> 'void'")


class Invoice(Model):
    """The bill of one completed visit; money in integer minor units (paise, cents), never float.
    A void invoice keeps its number, lines and payments: nothing financial is ever deleted."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("status IN ('unpaid', 'partly_paid', 'paid', 'void')", name="status"),
        CheckConstraint("paid_minor >= 0 AND paid_minor <= total_minor", name="paid_range"),
        UniqueConstraint("financial_year", "sequence", name="uq_invoice_year_sequence"),
        # One live invoice per visit; a void one may be replaced.
        Index(
            "uq_invoice_active_appointment",
            "appointment_id",
            unique=True,
            sqlite_where=_NOT_VOID_SQL,
            postgresql_where=_NOT_VOID_SQL,
        ),
        Index("ix_invoice_status_issued", "status", "issued_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    financial_year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    issued_on: Mapped[date] = mapped_column(Date, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    tax_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    status: Mapped[str] = mapped_column(String(16), default=InvoiceStatus.UNPAID.value)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    voided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str | None] = mapped_column(Text)

    appointment: Mapped[Appointment] = relationship()
    patient: Mapped[Patient] = relationship()
    doctor: Mapped[Doctor] = relationship()
    department: Mapped[Department | None] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(order_by="InvoiceLine.position", back_populates="invoice")
    payments: Mapped[list[InvoicePayment]] = relationship(order_by="InvoicePayment.id", back_populates="invoice")


class InvoiceLine(Model):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        CheckConstraint("kind IN ('consultation', 'procedure', 'test', 'other')", name="kind"),
        CheckConstraint("quantity >= 1 AND unit_minor >= 0", name="amounts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoicePayment(Model):
    """Money received for an invoice, or given back (a refund); amounts are positive, the kind says which way."""

    __tablename__ = "invoice_payments"
    __table_args__ = (
        CheckConstraint("kind IN ('payment', 'refund')", name="kind"),
        CheckConstraint("method IN ('cash', 'card', 'upi', 'insurance')", name="method"),
        CheckConstraint("amount_minor > 0", name="positive"),
        Index("ix_invoice_payment_received", "received_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    received_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    invoice: Mapped[Invoice] = relationship(back_populates="payments")

    @hybrid_property
    def signed_minor(self) -> int:
        """What this row adds to the money received: a refund counts negative (one rule for every revenue sum)."""
        return -self.amount_minor if self.kind == PaymentKind.REFUND.value else self.amount_minor

    @signed_minor.inplace.expression
    @classmethod
    def _signed_minor_expression(cls) -> Any:
        return case((cls.kind == PaymentKind.REFUND.value, -cls.amount_minor), else_=cls.amount_minor)


class DoctorLeave(Model):
    """Days a doctor does not see patients (both ends included): their slots vanish from every listing.
    Overlapping or touching leave of one doctor is merged into one row when recorded."""

    __tablename__ = "doctor_leaves"
    __table_args__ = (
        CheckConstraint("start_date <= end_date", name="date_order"),
        Index("ix_doctor_leave_doctor_dates", "doctor_id", "start_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    doctor: Mapped[Doctor] = relationship()


class QueueState(enum.StrEnum):
    CHECKED_IN = "checked_in"
    WITH_DOCTOR = "with_doctor"
    DONE = "done"


class QueueKind(enum.StrEnum):
    APPOINTMENT = "appointment"
    WALK_IN = "walk_in"
    EMERGENCY = "emergency"


class QueueToken(Model):
    """A patient's place in a doctor's queue of one day, with its token number. An emergency is a token without
    an appointment: it is seen first and never occupies (or doubles) a slot."""

    __tablename__ = "queue_tokens"
    __table_args__ = (
        CheckConstraint("state IN ('checked_in', 'with_doctor', 'done')", name="state"),
        CheckConstraint("kind IN ('appointment', 'walk_in', 'emergency')", name="kind"),
        CheckConstraint("(kind = 'emergency') = (appointment_id IS NULL)", name="emergency_has_no_slot"),
        UniqueConstraint("doctor_id", "date", "number", name="uq_queue_token_number"),
        UniqueConstraint("appointment_id", name="uq_queue_token_appointment"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    date: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=QueueState.CHECKED_IN.value)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive, onupdate=utcnow_naive)

    patient: Mapped[Patient] = relationship()
    doctor: Mapped[Doctor] = relationship()
    appointment: Mapped[Appointment | None] = relationship()


class AuthSession(Model):
    """One signed-in device: the family of refresh tokens handed out since a sign-in.

    Only the hash of the current refresh token is kept; its generation counts rotations, so an older token of
    the family (signed by us, so not a guess) presented again is a replay, and ends the whole family. Access
    tokens carry the session id, so ending a session ends its access tokens at once.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    refresh_hash: Mapped[str] = mapped_column(String(64))
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive)
    last_used_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    end_reason: Mapped[str | None] = mapped_column(String(32))


class AccountToken(Model):
    """A one-time link mailed to a user: a password reset or an e-mail verification.

    The link's token is an HMAC (under a key outside the database) of the row's purpose and id, so neither this
    table nor the outbox row that mails it holds a usable token; only its SHA-256 is stored, for the lookup.
    """

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow_naive, index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
