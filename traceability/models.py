"""Every domain model, imported in one place so mappers and migrations see them all."""
from .accounts.models import ApiToken, AuditEntry, Handover, Membership, Role, User, user_regions
from .batches.models import Attachment, Batch, DiaryEvent, EventKind
from .codes.models import LabelLevel, LabelRun, PrintFormat, PrintJob, PrintJobState
from .idempotency import IdempotencyKey
from .oversight.models import ExpiryNotice, Inspection, InspectionOutcome, NoticeStatus
from .registry.models import (
    Certificate,
    CertificateStatus,
    IssuingLevel,
    Producer,
    ProducerKind,
    Product,
    ProductGroup,
    Region,
    RegionLevel,
)
from .resolver.models import CounterfeitReport, ReportStatus, Scan, ScanVerdict

__all__ = [
    "ApiToken", "Attachment", "AuditEntry", "Batch", "Certificate", "CertificateStatus",
    "CounterfeitReport", "DiaryEvent", "EventKind", "ExpiryNotice", "Handover", "IdempotencyKey",
    "Inspection", "InspectionOutcome", "IssuingLevel", "LabelLevel", "LabelRun", "Membership",
    "NoticeStatus", "Producer", "ProducerKind", "Product", "ProductGroup", "Region", "RegionLevel",
    "ReportStatus", "Role", "Scan", "ScanVerdict", "User", "user_regions",
    "PrintFormat", "PrintJob", "PrintJobState",
]
