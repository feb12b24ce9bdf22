"""The compliance-point catalogue, assessments with their answers, improvement plans, and
pooled assessment requests."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, HasCreatedAt, HasId
from hub.db.types import enum_column


class Cluster(enum.Enum):
    CHILD_LABOUR = "CHILD_LABOUR"
    DISCRIMINATION = "DISCRIMINATION"
    FORCED_LABOUR = "FORCED_LABOUR"
    FREEDOM_OF_ASSOCIATION = "FREEDOM_OF_ASSOCIATION"
    COMPENSATION = "COMPENSATION"
    CONTRACTS_AND_HR = "CONTRACTS_AND_HR"
    OSH = "OSH"
    WORKING_TIME = "WORKING_TIME"


class AssessmentStatus(enum.Enum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"


class ActionStatus(enum.Enum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


class RequestStatus(enum.Enum):
    OPEN = "OPEN"
    FULFILLED = "FULFILLED"


class Question(Base):
    """A compliance point. ``country`` is set for the country-specific ones."""

    __tablename__ = "questions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    cluster: Mapped[Cluster] = mapped_column(enum_column(Cluster, "cluster"))
    area: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(2))
    position: Mapped[int] = mapped_column(Integer)


class QuestionLegalReference(Base):
    __tablename__ = "question_legal_references"

    question_code: Mapped[str] = mapped_column(
        ForeignKey("questions.code", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    reference: Mapped[str] = mapped_column(Text)


class Assessment(Base, HasId, HasCreatedAt):
    """One per factory and cycle; an amendment of a published one is version n+1."""

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("factory_id", "cycle", "version"),
        CheckConstraint(r"cycle ~ '^[0-9]{4}-[1-9][0-9]*$'", name="cycle_format"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    factory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("factories.id"))
    cycle: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    status: Mapped[AssessmentStatus] = mapped_column(
        enum_column(AssessmentStatus, "assessment_status")
    )
    assessed_at: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column()
    # hex SHA-256 of the canonical JSON of the answers and plan (see assessments.service)
    content_hash: Mapped[str] = mapped_column(String(64))
    assessor_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))


class AssessmentAnswer(Base):
    __tablename__ = "assessment_answers"

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True
    )
    question_code: Mapped[str] = mapped_column(ForeignKey("questions.code"), primary_key=True)
    compliant: Mapped[bool] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)


class AssessmentClusterSummary(Base):
    """Per-cluster counts of one assessment, written with its answers (which never change):
    a buyer's supplier list reads 8 rows per assessment instead of aggregating 150 answers."""

    __tablename__ = "assessment_cluster_summaries"

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True
    )
    cluster: Mapped[Cluster] = mapped_column(enum_column(Cluster, "cluster"), primary_key=True)
    questions: Mapped[int] = mapped_column(Integer)
    noncompliant: Mapped[int] = mapped_column(Integer)


class ImprovementAction(Base, HasId, HasCreatedAt):
    __tablename__ = "improvement_actions"

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    question_code: Mapped[str] = mapped_column(ForeignKey("questions.code"))
    action: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(enum_column(ActionStatus, "action_status"))
    updated_at: Mapped[datetime | None] = mapped_column()


class AssessmentRequest(Base, HasId, HasCreatedAt):
    """Buyers needing an assessment of one factory; later buyers join the open request."""

    __tablename__ = "assessment_requests"
    __table_args__ = (
        Index(
            "uq_assessment_requests_open_factory",
            "factory_id",
            unique=True,
            postgresql_where=text("status = 'OPEN'"),
        ),
    )

    factory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("factories.id"))
    status: Mapped[RequestStatus] = mapped_column(enum_column(RequestStatus, "request_status"))
    assessment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("assessments.id"))
    fulfilled_at: Mapped[datetime | None] = mapped_column()


class AssessmentRequestBuyer(Base, HasCreatedAt):
    __tablename__ = "assessment_request_buyers"

    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessment_requests.id", ondelete="CASCADE"), primary_key=True
    )
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id"), primary_key=True
    )
    # served by an assessment that already existed (nothing was commissioned for this buyer)
    reused: Mapped[bool] = mapped_column(server_default=text("false"))
